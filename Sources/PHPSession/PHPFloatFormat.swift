/// PHP 8.2's text for a float in `serialize()` with `serialize_precision = -1` (the default), as in
/// `d:0.1;`.
///
/// PHP takes the shortest digits that read back to the same double (`zend_dtoa` mode 0) and lays them out
/// with `zend_gcvt(value, 17, '.', 'E')`. With the value written as 0.d₁d₂…dₙ × 10^p:
/// - p < −3 or p > 17: exponent form `d₁.d₂…dₙE±x` with x = p − 1, no leading zeros in x, and `.0` when
///   there is one digit: `1.0E-5`, `1.5E+17`, `1.0E+25`, `5.0E-324`;
/// - −3 ≤ p ≤ 0: `0.` then −p zeros and the digits: `0.0001`, `0.5`;
/// - 1 ≤ p ≤ 17: the digits, padded with zeros to p places, then `.` and the rest if any, never a
///   trailing `.0`: `100`, `1.5`, `10000000000000000`;
/// - zero is `0` or `-0`; the others are `INF`, `-INF` and `NAN`.
public enum PHPFloatFormat {
    /// The text PHP writes after `d:` for `value`.
    public static func string(for value: Double) -> String {
        String(decoding: bytes(for: value), as: UTF8.self)
    }

    /// ``string(for:)`` as ASCII bytes.
    public static func bytes(for value: Double) -> [UInt8] {
        if value.isNaN { return Array("NAN".utf8) }
        if value.isInfinite { return Array((value < 0 ? "-INF" : "INF").utf8) }
        var out: [UInt8] = value.sign == .minus ? [UInt8(ascii: "-")] : []
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return out
        }
        let (digits, point) = shortestDigits(of: value.magnitude)
        let zero = UInt8(ascii: "0")
        if point < -3 || point > 17 {
            out.append(digits[0])
            out.append(UInt8(ascii: "."))
            if digits.count == 1 {
                out.append(zero)
            } else {
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "E"))
            let exponent = point - 1
            out.append(UInt8(ascii: exponent < 0 ? "-" : "+"))
            out.append(contentsOf: String(exponent.magnitude).utf8)
        } else if point <= 0 {
            out.append(zero)
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(zero, count: -point))
            out.append(contentsOf: digits)
        } else {
            for index in 0..<point {
                out.append(index < digits.count ? digits[index] : zero)
            }
            if digits.count > point {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[point...])
            }
        }
        return out
    }

    /// The shortest round-trip digits of a finite positive `value` (no leading or trailing zeros) and the
    /// position p of the decimal point, so that value = 0.digits × 10^p.
    ///
    /// Swift's `description` yields the shortest digits that round-trip and, among those, the closest to the
    /// exact value, as `zend_dtoa` mode 0 does; only its layout differs, so it is taken apart here.
    static func shortestDigits(of value: Double) -> (digits: [UInt8], point: Int) {
        let text = Array(value.description.utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        var point = 0
        var seenPoint = false
        for byte in mantissa {
            if byte == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            digits.append(byte)
            if !seenPoint {
                point += 1
            }
        }
        point += exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            point -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
        }
        return (digits.isEmpty ? [UInt8(ascii: "0")] : digits, point)
    }
}
