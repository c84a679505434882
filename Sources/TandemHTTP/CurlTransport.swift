import Dispatch
public import Foundation
import TandemCLibcurl
import TandemCore

/// HTTP over libcurl: TLS verification on (CA bundle configurable), no redirects followed, proxies from the
/// standard variables (libcurl reads `http_proxy`, `https_proxy` and `no_proxy` itself), connect and total
/// timeouts. One easy handle is reused for every request of a transport, so connections are kept alive; the
/// blocking `curl_easy_perform` runs on the transport's own serial queue, off Swift's cooperative pool.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    private let queue = DispatchQueue(label: "tandem.curl")
    private let handle: UnsafeMutableRawPointer?
    private let caBundle: String?

    /// `curl_global_init`, once per process.
    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// - Parameter caBundle: a CA bundle file to verify servers with (the system's when nil).
    public init(caBundle: String? = ProcessInfo.processInfo.environment["TANDEM_CA_BUNDLE"]) {
        _ = Self.globalInit
        handle = curl_easy_init()
        self.caBundle = caBundle
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.perform(request)) }
        }
        return try result.get()
    }

    /// Sends a request on the calling thread (for callers that are not async).
    public func sendBlocking(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        try queue.sync { perform(request) }.get()
    }

    /// Collects the body and headers of one exchange.
    final class Sink {
        var body: [UInt8] = []
        /// The most body bytes kept (the request's `maxResponseBytes`); past it the exchange stops.
        let limit: Int
        var overflowed = false

        init(limit: Int) { self.limit = limit }
        var headers: [String: String] = [:]
        var upload: [UInt8] = []
    }

    private func perform(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPError> {
        guard let h = handle else { return .failure(HTTPError("libcurl could not create a handle", isTransient: false)) }
        // libcurl sends header lines and the URL as given: a line break in one would add lines of its own.
        if let problem = HTTPSafety.problem(of: request) {
            return .failure(
                HTTPError(
                    "refused to send \(request.method.rawValue) \(Self.host(of: request.url)): \(problem)", isTransient: false))
        }
        curl_easy_reset(h)
        let sink = Sink(limit: request.maxResponseBytes)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        // Every option's return code is checked: an option libcurl refuses (an unsupported protocol list, no
        // memory) must not leave a request going out with defaults instead.
        var refused: [String] = []
        func check(_ code: CURLcode, _ option: String) { if code != CURLE_OK { refused.append(option) } }
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        if !request.body.isEmpty || request.method != .get { list = curl_slist_append(list, "Expect:") }
        check(tandem_curl_setopt_string(h, CURLOPT_URL, request.url), "CURLOPT_URL")
        check(tandem_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        check(tandem_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0), "CURLOPT_FOLLOWLOCATION")
        check(tandem_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1), "CURLOPT_SSL_VERIFYPEER")
        check(tandem_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2), "CURLOPT_SSL_VERIFYHOST")
        if let caBundle { check(tandem_curl_setopt_string(h, CURLOPT_CAINFO, caBundle), "CURLOPT_CAINFO") }
        check(
            tandem_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000)), "CURLOPT_CONNECTTIMEOUT_MS"
        )
        check(tandem_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)), "CURLOPT_TIMEOUT_MS")
        check(tandem_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1), "CURLOPT_TCP_KEEPALIVE")
        check(tandem_curl_setopt_string(h, CURLOPT_USERAGENT, "tandem/\(TandemVersion.current)"), "CURLOPT_USERAGENT")
        check(tandem_curl_setopt_long(h, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)), "CURLOPT_PROTOCOLS")
        check(tandem_curl_setopt_slist(h, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER")
        check(
            tandem_curl_setopt_write_function(h) { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                guard sink.body.count + size * count <= sink.limit else {
                    sink.overflowed = true
                    return 0  // libcurl stops with CURLE_WRITE_ERROR
                }
                sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count).bindMemory(to: UInt8.self))
                return size * count
            }, "CURLOPT_WRITEFUNCTION")
        check(tandem_curl_setopt_pointer(h, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        check(
            tandem_curl_setopt_header_function(h) { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                if line.hasPrefix("HTTP/") { sink.headers = [:] }
                guard sink.headers.count < 256 else { return size * count }  // a bounded number of headers kept
                if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    sink.headers[name] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                return size * count
            }, "CURLOPT_HEADERFUNCTION")
        check(tandem_curl_setopt_pointer(h, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
        switch request.method {
        case .get:
            check(tandem_curl_setopt_long(h, CURLOPT_HTTPGET, 1), "CURLOPT_HTTPGET")
        case .post:
            check(tandem_curl_setopt_long(h, CURLOPT_POST, 1), "CURLOPT_POST")
        default:
            check(tandem_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method.rawValue), "CURLOPT_CUSTOMREQUEST")
        }
        if !refused.isEmpty {
            return .failure(
                HTTPError(
                    "libcurl refused \(refused.joined(separator: ", ")) for \(request.method.rawValue) \(Self.host(of: request.url))",
                    isTransient: false))
        }
        sink.upload = request.body
        let code: CURLcode = sink.upload.withUnsafeBufferPointer { body in
            if request.method != .get {
                let size = tandem_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                guard size == CURLE_OK else { return size }
                let fields = tandem_curl_setopt_pointer(
                    h, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafePointer(bitPattern: 1)))
                guard fields == CURLE_OK else { return fields }
            }
            return curl_easy_perform(h)
        }
        if sink.overflowed {
            return .failure(
                HTTPError(
                    "\(request.method.rawValue) \(Self.host(of: request.url)): the response is larger than "
                        + "\(request.maxResponseBytes >> 20) MiB, so it was not read", isTransient: false))
        }
        guard code == CURLE_OK else {
            let transient = [
                CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING,
                CURLE_COULDNT_RESOLVE_HOST, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR,
            ].contains(code)
            let host = Self.host(of: request.url)
            return .failure(
                HTTPError(
                    "\(request.method.rawValue) \(host): \(String(cString: curl_easy_strerror(code)))", isTransient: transient))
        }
        var status = 0
        guard tandem_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK else {
            return .failure(
                HTTPError("\(request.method.rawValue) \(Self.host(of: request.url)): no response status", isTransient: true))
        }
        return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
    }

    /// `scheme://host:port` of a URL, without credentials, path or query (for messages that may be logged).
    public static func host(of url: String) -> String {
        guard let range = url.range(of: "://") else { return "(invalid URL)" }
        let rest = url[range.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@").last.map(String.init) ?? ""
        return String(url[..<range.upperBound]) + host
    }
}
