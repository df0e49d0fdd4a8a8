import WebCore

/// `HTTPRequest.fromCGI` over parameters and a body, then what the routes do with the request.
///
/// Input: `NAME=VALUE` lines (each cut at its first NUL, as libfcgi hands over C strings), an empty
/// line, then the body. The body source answers `readBody(n)` with at most `n + 1` bytes, as
/// `FastCGIRequest.readBody(upTo:)` does.
enum RequestCheck {
    static let maxBodyBytes = 64

    static func check(_ bytes: [UInt8]) throws(FuzzFailure) {
        let (parameters, body) = split(bytes)
        var reads: [Int] = []
        var discards: [Int] = []
        let request = HTTPRequest.fromCGI(
            parameters: parameters,
            readBody: { limit in
                reads.append(limit)
                return Array(body.prefix(limit + 1))
            },
            discardBody: { discards.append($0) }, maxBodyBytes: maxBodyBytes)
        try checkBody(request, parameters: parameters, body: body, reads: reads, discards: discards)
        try checkTarget(request, parameters: parameters)
        try checkUse(request)
    }

    /// The parameters and the body that `bytes` spell.
    static func split(_ bytes: [UInt8]) -> (parameters: [String: String], body: [UInt8]) {
        var head = bytes[...]
        var body: [UInt8] = []
        if let blank = (0..<max(bytes.count - 1, 0)).first(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) {
            head = bytes[..<blank]
            body = Array(bytes[(blank + 2)...])
        }
        var parameters: [String: String] = [:]
        for line in head.split(separator: 0x0A) {
            // As `FastCGIRequest.parameters()` does: split at the first `=` byte.
            let cString = line.prefix(while: { $0 != 0 })
            guard let equals = cString.firstIndex(of: UInt8(ascii: "=")) else { continue }
            parameters[String(decoding: cString[..<equals], as: UTF8.self)] =
                String(decoding: cString[(equals + 1)...], as: UTF8.self)
        }
        return (parameters, body)
    }

    private static func checkBody(
        _ request: HTTPRequest, parameters: [String: String], body: [UInt8], reads: [Int], discards: [Int]
    ) throws(FuzzFailure) {
        try require(reads.count + discards.count <= 1, "the body was read or dropped twice: \(reads) \(discards)")
        try require(reads.allSatisfy { $0 >= 0 }, "readBody(\(reads)) with a negative limit")
        let lengthText = parameters["CONTENT_LENGTH"] ?? ""
        guard !lengthText.isEmpty else {
            try require(reads == [0], "no CONTENT_LENGTH, yet readBody(\(reads))")
            try require(request.body.isEmpty, "no CONTENT_LENGTH, yet a body of \(request.body.count) bytes")
            try require(body.isEmpty || request.bodyProblem != nil, "an undeclared body was taken silently")
            return
        }
        guard let declared = Int(lengthText), declared >= 0 else {
            try require(request.bodyProblem != nil, "CONTENT_LENGTH \(lengthText) was accepted")
            try require(request.body.isEmpty, "a body with CONTENT_LENGTH \(lengthText)")
            return
        }
        if declared > maxBodyBytes {
            try require(request.bodyProblem != nil, "an oversized body raised no problem")
            try require(
                discards == [min(declared, HTTPRequest.maxDiscardedBytes)], "discardBody(\(discards)) for \(declared)")
            try require(request.body.isEmpty, "an oversized body was kept")
            return
        }
        try require(reads == [declared], "readBody(\(reads)) for CONTENT_LENGTH \(declared)")
        if body.count == declared {
            try require(request.body == body, "the body differs from what was sent")
            try require(
                request.bodyProblem == nil || request.bodyProblem == .malformedTarget,
                "a body of the declared length raised \(String(describing: request.bodyProblem))")
        } else {
            try require(request.bodyProblem != nil, "a body of \(body.count) bytes passed as \(declared)")
            try require(request.body.isEmpty, "a body of the wrong length was kept")
        }
    }

    /// The path and the query are the request target cut at its first `?` byte.
    private static func checkTarget(_ request: HTTPRequest, parameters: [String: String]) throws(FuzzFailure) {
        let uri = parameters["REQUEST_URI"] ?? ((parameters["SCRIPT_NAME"] ?? "/") + (parameters["PATH_INFO"] ?? ""))
        let bytes = Array(uri.utf8)
        let question = bytes.firstIndex(of: UInt8(ascii: "?"))
        let path = try? PercentDecoding.decode(Array(bytes[..<(question ?? bytes.count)]), plusAsSpace: false)
        if let path {
            try require(request.path == path, "path \(request.path) from \(bytes.escaped)")
        } else {
            try require(request.bodyProblem == .malformedTarget, "\(bytes.escaped) is not a malformed target")
        }
        if parameters["QUERY_STRING"] == nil {
            let query = question.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) } ?? ""
            try require(request.query == query, "query \(request.query) from \(bytes.escaped)")
        }
    }

    /// What a route reads from a request: type, negotiation, cookies, query and body.
    private static func checkUse(_ request: HTTPRequest) throws(FuzzFailure) {
        if let type = request.mediaType {
            try require(!type.isEmpty && !type.unicodeScalars.contains(";"), "media type \(type)")
        }
        _ = request.prefersHTML
        _ = request.acceptsJSON
        if let header = request.header("cookie") {
            try CookieCheck.check(header)
        }
        if request.bodyProblem != .malformedTarget {
            try require(
                (try? PercentDecoding.decode(Array(PercentDecoding.encode(request.path).utf8), plusAsSpace: false))
                    == request.path, "the path does not survive percent-encoding: \(request.path)")
        }
        try FormCheck.checkForm(Array(request.query.utf8))
        // As `RequestBody.parse` in the Responder module does.
        switch request.mediaType {
        case "application/x-www-form-urlencoded": try FormCheck.checkForm(request.body)
        case "application/json": try JSONCheck.check(request.body)
        default: break
        }
    }
}
