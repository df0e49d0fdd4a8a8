/// Writes ``PHPValue``s in PHP's `serialize()` format, exactly as PHP 8.2 does.
enum PHPSerializer {
    static func append(_ value: PHPValue, to out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "N;".utf8)
        case .bool(let flag):
            out.append(contentsOf: (flag ? "b:1;" : "b:0;").utf8)
        case .int(let number):
            appendInt(number, to: &out)
        case .double(let number):
            out.append(contentsOf: "d:".utf8)
            out.append(contentsOf: PHPFloatFormat.bytes(for: number))
            out.append(UInt8(ascii: ";"))
        case .string(let bytes):
            appendString(bytes, to: &out)
        case .array(let array):
            out.append(contentsOf: "a:\(array.count):{".utf8)
            for (key, element) in array.entries {
                switch key {
                case .int(let number): appendInt(number, to: &out)
                case .string(let bytes): appendString(bytes, to: &out)
                }
                append(element, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .opaque(let bytes):
            out.append(contentsOf: bytes)
        }
    }

    static func appendInt(_ number: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: "i:\(number);".utf8)
    }

    static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: "s:\(bytes.count):\"".utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\";".utf8)
    }
}
