import Cluster
import WebCore

extension Application {
    /// The route table: path (its `.php` alias too) → allowed methods → handler.
    func route(_ request: HTTPRequest, sessionHash: inout String) throws -> HTTPResponse {
        switch request.bodyProblem {
        case .tooLarge: throw HTTPError(413, "The request body is larger than \(configuration.maxBodyBytes) bytes.")
        case .lengthMismatch: throw HTTPError(400, "The request body does not match its Content-Length.")
        case .malformedTarget: throw HTTPError(400, "The request path is not valid percent-encoded UTF-8.")
        case nil: break
        }
        try services.limits.checkHeaders(of: request)
        // The query string must decode on every route, whether the route reads it or not.
        if !request.query.isEmpty { _ = try FormFields.parse(Array(request.query.utf8), limits: services.limits.form) }
        let method = request.method == "HEAD" ? "GET" : request.method
        switch Self.canonicalPath(request.path) {
        case "/":
            try allow(["GET", "HEAD"], method)
            return try indexPage(request, sessionHash: &sessionHash)
        case "/session":
            try allow(["GET", "HEAD", "POST", "DELETE"], method)
            try guardCrossOrigin(request)
            switch method {
            case "POST": return try setSessionValues(request, sessionHash: &sessionHash)
            case "DELETE": return try destroySession(request, sessionHash: &sessionHash)
            default: return try showSession(request, sessionHash: &sessionHash)
            }
        case "/session/regenerate":
            try allow(["POST"], method)
            try guardCrossOrigin(request)
            return try regenerateSession(request, sessionHash: &sessionHash)
        case "/manage":
            try allow(["GET", "HEAD", "POST"], method)
            try guardCrossOrigin(request)
            return method == "POST" ? try changeItems(request) : try listItems(request)
        case "/health":
            try allow(["GET", "HEAD"], method)
            return health()
        case "/status":
            try allow(["GET", "HEAD"], method)
            return try status(request)
        case Pages.stylesheetPath:
            try allow(["GET", "HEAD"], method)
            return services.pages.stylesheetResponse(ifNoneMatch: request.header("if-none-match"))
        default:
            throw HTTPError.notFound()
        }
    }

    /// Maps the `.php` names of the original application onto the routes.
    static func canonicalPath(_ path: String) -> String {
        switch path {
        case "/index.php": return "/"
        case "/session.php": return "/session"
        case "/session.php/regenerate": return "/session/regenerate"
        case "/manage.php": return "/manage"
        case "/health.php": return "/health"
        case "/status.php": return "/status"
        default: return path
        }
    }

    private func allow(_ methods: [String], _ method: String) throws(HTTPError) {
        guard methods.contains(method) else { throw HTTPError.methodNotAllowed(methods) }
    }

    private func guardCrossOrigin(_ request: HTTPRequest) throws(HTTPError) {
        if let refusal = CrossOriginProtection.check(request) { throw refusal }
    }
}
