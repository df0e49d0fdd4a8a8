/// Why a percent-encoded text was refused.
public enum PercentDecodingError: Error, Sendable, Equatable {
    case brokenEscape
    case invalidUTF8
}

/// `application/x-www-form-urlencoded` and URI percent-decoding.
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`) and requires valid UTF-8.
    /// Inlinable, so that callers in other modules (the session cookie, on every request) get
    /// code specialized to their collection.
    @inlinable
    public static func decode<C: Collection>(_ input: C, plusAsSpace: Bool) throws(PercentDecodingError) -> String
    where C.Element == UInt8, C.Index == Int {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.endIndex {
            let byte = input[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < input.endIndex,
                    let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
                else { throw .brokenEscape }
                out.append(high << 4 | low)
                index += 3
            } else if byte == UInt8(ascii: "+") && plusAsSpace {
                out.append(0x20)
                index += 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        guard UTF8Validation.isValid(out) else { throw .invalidUTF8 }
        return String(decoding: out, as: UTF8.self)
    }

    @usableFromInline static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Percent-encodes everything outside RFC 3986's unreserved set.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
