<?php
// Writes the golden fixtures of PHPSessionTests with PHP's own session encoder.
// Run from anywhere with PHP 8.2 CLI:  php make-fixtures.php
// Every *.txt is the raw session data PHP writes (session.serialize_handler=php,
// serialize_precision=-1); a *.json next to it is the expected JSON view of
// docs/API.md, for sessions that hold no objects.

declare(strict_types=1);
error_reporting(E_ALL & ~E_DEPRECATED);
ini_set('serialize_precision', '-1');
ini_set('session.serialize_handler', 'php');
ini_set('session.use_cookies', '0');
ini_set('session.use_strict_mode', '0');
ini_set('session.cache_limiter', '');

$dir = __DIR__;

final class MemoryHandler implements SessionHandlerInterface
{
    public string $data = '';
    public string $written = '';
    public function open(string $path, string $name): bool { return true; }
    public function close(): bool { return true; }
    public function read(string $id): string|false { return $this->data; }
    public function write(string $id, string $data): bool { $this->written = $data; return true; }
    public function destroy(string $id): bool { return true; }
    public function gc(int $max): int|false { return 0; }
}

$handler = new MemoryHandler();
session_set_save_handler($handler, true);

/** Starts a session over $stored, lets $change edit $_SESSION, returns what PHP writes back. */
function roundTrip(MemoryHandler $handler, string $stored, callable $change): string
{
    $handler->data = $stored;
    $handler->written = '';
    session_id('fixturefixturefixture0123');
    if (!session_start()) {
        throw new RuntimeException('session_start failed');
    }
    $change();
    session_write_close();
    return $handler->written;
}

/** The API's JSON view of a PHP value without objects. */
function jsonView(mixed $v): mixed
{
    if (is_array($v)) {
        $out = [];
        foreach ($v as $k => $x) {
            $out[$k] = jsonView($x);
        }
        return $out;
    }
    if (is_string($v)) {
        return preg_match('//u', $v) === 1 ? $v : ['$base64' => base64_encode($v)];
    }
    if (is_float($v) && !is_finite($v)) {
        return ['$php' => serialize($v)];
    }
    if (is_object($v)) {
        throw new LogicException('objects have no simple JSON view');
    }
    return $v;
}

function writeFixture(string $dir, string $name, MemoryHandler $handler, array $vars, bool $withJSON): void
{
    $data = roundTrip($handler, '', function () use ($vars): void {
        foreach ($vars as $k => $v) {
            $_SESSION[$k] = $v;
        }
    });
    file_put_contents("$dir/$name.txt", $data);
    if ($withJSON) {
        $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
            | JSON_UNESCAPED_LINE_TERMINATORS | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR;
        file_put_contents("$dir/$name.json", json_encode((object) jsonView($vars), $flags) . "\n");
    }
}

// --- scalars -------------------------------------------------------------------------------
writeFixture($dir, 'session-scalars', $handler, [
    'visits' => 3,
    'color' => 'blue',
    'zero' => 0,
    'negative' => -42,
    'int_max' => PHP_INT_MAX,
    'int_min' => PHP_INT_MIN,
    'yes' => true,
    'no' => false,
    'nothing' => null,
    'empty' => '',
    'with_nul' => "a\0b\0",
    'latin1' => "caf\xe9",
    'bad_utf8' => "\xff\xfe\x00\x80",
    'utf8' => "héllo ✓ 𝄞",
    'quotes' => "say \"hi\";|s:1:\"x\";",
    'control' => "tab\tnew\nline\r\x01\x1f\x7f/slash\\back",
    '' => 'empty name',
    'ünï' => 'non-ASCII name',
], true);

// --- floats --------------------------------------------------------------------------------
$floats = [
    0.1, 100.0, 1e25, -0.0, 0.0, INF, -INF, NAN, 1e-10, 0.0001, 0.00001, 1e14, 1e15, 1e16, 1e17,
    1.5e17, 123456789012345678.0, 0.5, 1.2345e-4, 1.2345e-5, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 9.223372036854776e18, -1.5, 1e100, 1e21, 1e22, 0.1 + 0.2, 1 / 3,
    -2 / 3, 3.14159, 2.718281828459045, 1e-7, 123.456, -0.000123, 99999999999999999.0,
    12345678901234567.0, 1234567890123456.7, 4.35, 0.3, 1e-300, 6.02214076e23,
];
$vars = [];
foreach ($floats as $i => $f) {
    $vars["f$i"] = $f;
}
$vars['in_array'] = [1.0, INF, -0.0, NAN];
writeFixture($dir, 'session-floats', $handler, $vars, true);

// --- arrays --------------------------------------------------------------------------------
writeFixture($dir, 'session-arrays', $handler, [
    'list' => [1, 'two', 3.0, true, null],
    'empty' => [],
    'assoc' => ['name' => 'Ada', 'age' => 36],
    'mixed_keys' => [5 => 'five', 'x' => 'ex', -3 => 'minus three', '10' => 'ten', '010' => 'oh-ten'],
    'gap' => [0 => 'a', 2 => 'c'],
    'unordered' => [1 => 'b', 0 => 'a'],
    'nested' => ['a' => [1, [2, [3, ['deep' => "\xff"]]]], 'b' => ['x' => [], 'y' => [[]]]],
    'int_keys_extreme' => [PHP_INT_MAX => 'max', PHP_INT_MIN => 'min'],
    'binary_key' => ["k\0ey" => 1, "caf\xe9" => 2],
], true);

// --- objects -------------------------------------------------------------------------------
class Account
{
    public string $name = 'ada';
    protected int $level = 2;
    private ?Account $parent = null;
    public array $tags = ['x', 'y'];
    public ?object $child = null;
    public function setParent(Account $p): void { $this->parent = $p; }
}

enum Suit: string
{
    case Hearts = 'H';
    case Spades = 'S';
}

enum Flag
{
    case On;
}

final class Money
{
    public function __construct(private int $cents, private string $currency) {}
    public function __serialize(): array { return ['c' => $this->cents, 'cur' => $this->currency]; }
    public function __unserialize(array $data): void { $this->cents = $data['c']; $this->currency = $data['cur']; }
}

final class Legacy implements Serializable
{
    public mixed $data = null;
    public function serialize(): string { return serialize($this->data); }
    public function unserialize(string $s): void { $this->data = unserialize($s); }
}

final class Opaque implements Serializable
{
    public function serialize(): string { return 'not serialized {at} all'; }
    public function unserialize(string $s): void {}
}

$outer = new Account();
$outer->child = new Account();
$outer->child->name = "inn\0er";
$self = new stdClass();
$self->me = $self;
$self->n = 1.5;
$legacy = new Legacy();
$legacy->data = ['x' => 1, 'y' => [true]];
writeFixture($dir, 'session-objects', $handler, [
    'visits' => 7,
    'account' => new Account(),
    'nested' => $outer,
    'array_object' => new ArrayObject(['a' => 1, 'b' => [2]]),
    'suit' => Suit::Hearts,
    'flag' => Flag::On,
    'std' => (object) ['a' => 1, 'list' => [1, 2]],
    'money' => new Money(1250, 'EUR'),
    'legacy' => $legacy,
    'opaque' => new Opaque(),
    'self' => $self,
    'date' => new DateTimeImmutable('2026-11-26 19:00:00', new DateTimeZone('UTC')),
    'after' => ['still' => 'here'],
], false);

// --- references ----------------------------------------------------------------------------
// Built inside the session so that PHP references ('&') survive as R: and shared objects as r:.
$references = roundTrip($handler, '', function (): void {
    $shared = new Account();
    $legacy = new Legacy();
    $legacy->data = [$shared, 3];
    $inner = ['k' => 'v'];
    $_SESSION['a'] = 5;
    $_SESSION['obj'] = $shared;
    $_SESSION['obj_again'] = $shared;
    $_SESSION['list'] = [1, 2];
    $_SESSION['list_ref'] = &$_SESSION['list'];
    $_SESSION['scalar'] = 'same';
    $_SESSION['scalar_ref'] = &$_SESSION['scalar'];
    $_SESSION['container'] = ['first' => &$inner, 'second' => &$inner];
    $_SESSION['suit'] = Suit::Spades;
    $_SESSION['suit_again'] = Suit::Spades;
    $_SESSION['objs'] = [$shared, $shared, new ArrayObject([$shared])];
    $_SESSION['legacy'] = $legacy;
    $_SESSION['after_legacy'] = $shared;
    $_SESSION['tail'] = 'end';
});
file_put_contents("$dir/session-references.txt", $references);

// --- a realistic application session -------------------------------------------------------
writeFixture($dir, 'session-mixed', $handler, [
    'visits' => 12,
    'served_by' => 'pool-2',
    'user' => ['id' => 42, 'name' => 'Zoë', 'roles' => ['admin', 'editor'], 'score' => 98.5],
    'flash' => [],
    'cart' => [['sku' => 'A-1', 'qty' => 2, 'price' => 9.99], ['sku' => 'B-2', 'qty' => 1, 'price' => 120.0]],
    'csrf' => "\x8f\x12\xa0\x00\xfe",
    'last_seen' => 1764183600,
], true);

// --- renumbering: what PHP writes after one change -----------------------------------------
$before = file_get_contents("$dir/session-references.txt");
$cases = [
    // 'a' (one slot) becomes an array of three ints (four slots): later references move by 3.
    'renumber-grow' => function (): void { $_SESSION['a'] = [7, 8, 9]; },
    // 'obj' is replaced: its first back-reference 'obj_again' now shows the object plainly.
    'renumber-replace-target' => function (): void { $_SESSION['obj'] = 'gone'; },
    // 'list' ([1,2], three slots) becomes one int: later references move by -2.
    'renumber-shrink' => function (): void { $_SESSION['container'] = 0; },
    // 'tail' at the end changes: nothing before it moves.
    'renumber-tail' => function (): void { $_SESSION['tail'] = ['x' => 1]; },
    // a new key is appended at the end.
    'renumber-append' => function (): void { $_SESSION['new'] = 'value'; },
];
foreach ($cases as $name => $change) {
    file_put_contents("$dir/$name.txt", roundTrip($handler, $before, $change));
}

// --- float samples: raw bits (big-endian hex) and PHP's text, one per line -----------------
mt_srand(20261126);
$lines = [];
$sample = function (float $f) use (&$lines): void {
    $lines[] = bin2hex(pack('E', $f)) . ' ' . substr(serialize($f), 2, -1);
};
for ($i = 0; $i < 3000; $i++) {
    // Uniformly random bit patterns (all exponents, subnormals, NaNs included).
    $bits = pack('N2', mt_rand(0, 0xFFFFFFFF), mt_rand(0, 0xFFFFFFFF));
    $sample(unpack('E', $bits)[1]);
}
for ($i = 0; $i < 2000; $i++) {
    // Short decimals at every scale, where the switch to exponent form happens.
    $sample(mt_rand(1, 99999) * (10 ** mt_rand(-12, 22)) / (10 ** mt_rand(0, 6)));
    $sample(mt_rand(-999999, 999999) / 1000);
}
for ($e = -330; $e <= 310; $e++) {
    $sample((float) "1e$e");
    $sample((float) "9.999999999999999e$e");
    $sample((float) "1.5e$e");
}
for ($p = 0; $p <= 64; $p++) {
    $sample(2.0 ** $p);
    $sample(-(2.0 ** -$p));
}
file_put_contents("$dir/float-samples.txt", implode("\n", $lines) . "\n");

echo "fixtures written to $dir\n";
