public import TandemCore

/// Checks on what goes into a request's header lines and URL before libcurl sees it. libcurl writes header
/// values and the URL as given: a CR or LF in a token would end its header line and start lines of the token's
/// choosing (another header, even another request), and other control characters have no place there either.
public enum HTTPSafety {
    /// What is wrong with a header value, in words without the value (nil when it is fine): any control character
    /// (U+0000–U+001F, U+007F) is refused, the tab included.
    public static func valueProblem(_ value: String) -> String? {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            return "holds a line break (CR or LF), which would end the header line and start another"
        }
        if let c = value.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "holds the control character U+\(String(c.value, radix: 16, uppercase: true).leftPadded(to: 4))"
        }
        return nil
    }

    /// What is wrong with a header name (nil when it is an RFC 9110 token).
    public static func nameProblem(_ name: String) -> String? {
        let allowed = Set("!#$%&'*+-.^_`|~".unicodeScalars)
        let ok =
            !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ($0.value >= 0x30 && $0.value <= 0x39) || ($0.value >= 0x41 && $0.value <= 0x5A)
                    || ($0.value >= 0x61 && $0.value <= 0x7A) || allowed.contains($0)
            }
        return ok ? nil : "is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)"
    }

    /// What is wrong with a URL to send a request to (nil when it is fine): it must be `http://` or `https://`
    /// and hold no space and no control character.
    public static func urlProblem(_ url: String) -> String? {
        if let problem = valueProblem(url) { return problem }
        if url.contains(" ") { return "holds a space; percent-encode it (%20)" }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            return "is not an http:// or https:// URL"
        }
        return nil
    }

    /// The first problem of a request's URL and headers, naming the header but never a value (nil when none).
    public static func problem(of request: HTTPRequest) -> String? {
        if let problem = urlProblem(request.url) { return "the request's URL \(problem)" }
        for (name, value) in request.headers {
            if let problem = nameProblem(name) { return "a header name \(problem)" }
            if let problem = valueProblem(value) { return "the value of header \(name) \(problem)" }
        }
        return nil
    }

    /// Refuses a value read from an environment variable for a header, a signing secret or a URL, naming the
    /// variable and never its value.
    public static func checkVariable(_ variable: String, _ value: String, isURL: Bool = false) throws(UnsafeValueError) {
        if let problem = isURL ? urlProblem(value) : valueProblem(value) {
            throw UnsafeValueError(variable: variable, problem: problem)
        }
    }
}

/// A value from an environment variable that cannot go into a request (a line break in a token, say). The message
/// names the variable and what is wrong, never the value. Exit 2: the variable has to be fixed.
public struct UnsafeValueError: TandemError, Equatable {
    /// The variable that holds the value.
    public var variable: String
    /// What is wrong with it, in words.
    public var problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var exitStatus: ExitStatus { .badInput }

    public var description: String {
        "$\(variable) \(problem); nothing was sent. Set it to the value alone "
            + "(a value read from a file often ends with a newline)"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
