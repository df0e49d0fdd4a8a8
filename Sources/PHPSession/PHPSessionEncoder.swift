/// Writes a session, renumbering back-references as ``PHPSessionData`` documents.
///
/// Works on token streams with an explicit stack, so nothing recurses however the data nests: each
/// variable is a stream (of the decoded bytes for an unchanged variable, of its serialization otherwise),
/// and writing out the target of a back-reference whose target is gone pushes a stream over the decoded
/// bytes of that target. Every original slot is written out at most once that way, so this ends, and the
/// output holds only back-references to slots already written.
struct PHPSessionEncoder {
    private struct OpenCustom {
        var outputStart: Int
        var header: Range<Int>
        var className: Range<Int>
        var payloadLength: Int
    }

    private struct Stream {
        var tokenizer: PHPTokenizer
        /// The original slot number of the next slot-taking token, for a stream over the decoded bytes.
        var nextOriginalSlot: Int?
        var openCustoms: [OpenCustom] = []
    }

    private let source: [UInt8]
    private var output: [UInt8] = []
    private var slotCount = 0
    /// The slot number in the output of each original slot written so far.
    private var newSlot: [Int: Int] = [:]
    /// Where each original slot's value starts in `source`; computed when first needed.
    private var originalSlotStarts: [Int]?

    init(source: [UInt8]) {
        self.source = source
    }

    mutating func encode(_ entries: [PHPSessionData.Entry]) -> [UInt8] {
        for entry in entries {
            output.append(contentsOf: entry.rawName)
            output.append(UInt8(ascii: "|"))
            if let origin = entry.origin {
                let tokenizer = PHPTokenizer(
                    bytes: source, start: origin.range.lowerBound, limit: origin.range.upperBound)
                write(Stream(tokenizer: tokenizer, nextOriginalSlot: origin.firstSlot))
            } else if !entry.value.containsOpaque {
                PHPSerializer.append(entry.value, to: &output)
                slotCount += Self.slots(of: entry.value)
            } else {
                let bytes = entry.value.serialized
                if Self.isOneValue(bytes) {
                    write(Stream(tokenizer: PHPTokenizer(bytes: bytes, start: 0, limit: bytes.count)))
                } else {
                    // Not well-formed: nothing in it can be numbered, so it is written as it is.
                    output.append(contentsOf: bytes)
                }
            }
        }
        return output
    }

    private mutating func write(_ first: Stream) {
        var streams = [first]
        while let top = streams.indices.last {
            guard let token = try? streams[top].tokenizer.next() else {
                streams.removeLast()
                continue
            }
            var originalSlot: Int?
            if token.takesSlot, let next = streams[top].nextOriginalSlot {
                originalSlot = next
                streams[top].nextOriginalSlot = next + 1
            }
            let bytes = streams[top].tokenizer.bytes
            switch token.kind {
            case .reference(let target, let isObject) where !token.isKey:
                if let mapped = newSlot[target] {
                    if mapped == target {
                        output.append(contentsOf: bytes[token.range])
                    } else {
                        output.append(contentsOf: "\(isObject ? "r" : "R"):\(mapped);".utf8)
                    }
                    if isObject { takeSlot(originalSlot) }
                } else if let start = originalSlotStart(target) {
                    // The target is no longer written before this point: write it here in full.
                    if isObject, let originalSlot {
                        newSlot[originalSlot] = slotCount + 1
                    }
                    let tokenizer = PHPTokenizer(bytes: source, start: start, limit: source.count)
                    streams.append(Stream(tokenizer: tokenizer, nextOriginalSlot: target))
                } else {
                    output.append(contentsOf: bytes[token.range])
                    if isObject { takeSlot(originalSlot) }
                }
            case .customStart(let className, let payload):
                takeSlot(originalSlot)
                let open = OpenCustom(
                    outputStart: output.count, header: token.range, className: className,
                    payloadLength: payload.count)
                streams[top].openCustoms.append(open)
            case .end(closesCustom: true):
                guard let open = streams[top].openCustoms.popLast() else { continue }
                let length = output.count - open.outputStart
                var header: [UInt8]
                if length == open.payloadLength {
                    header = Array(bytes[open.header])
                } else {
                    header = Array("C:\(open.className.count):\"".utf8)
                    header.append(contentsOf: bytes[open.className])
                    header.append(contentsOf: "\":\(length):{".utf8)
                }
                output.insert(contentsOf: header, at: open.outputStart)
                output.append(UInt8(ascii: "}"))
            default:
                output.append(contentsOf: bytes[token.range])
                if token.takesSlot { takeSlot(originalSlot) }
            }
        }
    }

    private mutating func takeSlot(_ originalSlot: Int?) {
        slotCount += 1
        if let originalSlot {
            newSlot[originalSlot] = slotCount
        }
    }

    private mutating func originalSlotStart(_ slot: Int) -> Int? {
        let starts = originalSlotStarts ?? Self.slotStarts(in: source)
        originalSlotStarts = starts
        return starts.indices.contains(slot - 1) ? starts[slot - 1] : nil
    }

    /// Where each slot's value starts in decoded session data, in slot order.
    private static func slotStarts(in source: [UInt8]) -> [Int] {
        var starts: [Int] = []
        var cache: [Int: Bool] = [:]
        var position = 0
        while position < source.count, let bar = source[position...].firstIndex(of: UInt8(ascii: "|")) {
            var tokenizer = PHPTokenizer(bytes: source, start: bar + 1, limit: source.count)
            tokenizer.customPayloadCache = cache
            do {
                while let token = try tokenizer.next() {
                    if token.takesSlot {
                        starts.append(token.range.lowerBound)
                    }
                }
            } catch {
                break
            }
            cache = tokenizer.customPayloadCache
            position = tokenizer.position
        }
        return starts
    }

    /// The number of slots PHP gives a value without opaque parts.
    private static func slots(of value: PHPValue) -> Int {
        guard case .array(let array) = value else { return 1 }
        return array.entries.reduce(1) { $0 + slots(of: $1.value) }
    }

    private static func isOneValue(_ bytes: [UInt8]) -> Bool {
        var tokenizer = PHPTokenizer(bytes: bytes, start: 0, limit: bytes.count)
        do {
            while try tokenizer.next() != nil {}
        } catch {
            return false
        }
        return tokenizer.position == bytes.count
    }
}
