import CCurl
import Foundation
import Storage

/// The limits of one call, mapped onto libcurl's options.
public struct HTTPTimeouts: Sendable, Equatable {
  /// `CURLOPT_CONNECTTIMEOUT_MS`.
  public var connectMilliseconds: Int64 = 2_000
  /// `CURLOPT_TIMEOUT_MS`: the whole call.
  public var totalMilliseconds: Int64 = 10_000
  /// `CURLOPT_LOW_SPEED_LIMIT` bytes per second for `CURLOPT_LOW_SPEED_TIME`;
  /// 0 turns the abort off.
  public var lowSpeedBytesPerSecond = 0
  public var lowSpeedMilliseconds: Int64 = 30_000

  public init() {}
}

public struct HTTPRequest: Sendable, Equatable {
  public var method: String
  public var url: String
  public var headers: [(String, String)]
  public var body: Data?

  public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: Data? = nil) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
  }

  /// A POST of JSON text.
  public static func json(_ url: String, _ body: Data, headers: [(String, String)] = []) -> HTTPRequest {
    HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers, body: body)
  }

  public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
    lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
      && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
  }
}

public struct HTTPResponse: Sendable, Equatable {
  public var status: Int
  public var body: Data
  public var milliseconds: Int64

  public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a call got no HTTP answer: the dependency and the limit are named.
public struct HTTPFailure: ReportableError, Equatable {
  public enum Kind: String, Sendable {
    case connectTimeout = "connect timeout"
    case timeout
    case tooSlow = "low-speed abort"
    case connect
    case tls
    case badURL = "bad URL"
    case other
  }
  public let kind: Kind
  public let message: String
  public var description: String { message }
  public var isBadInput: Bool { kind == .badURL }
  public var isTimeout: Bool { kind == .connectTimeout || kind == .timeout || kind == .tooSlow }
}

/// HTTP over libcurl easy handles. `perform` blocks the calling thread:
/// call it from a thread of its own (``HTTPThreads`` runs calls for async
/// code without holding a thread of the Swift concurrency pool).
public enum HTTPClient {
  /// Bodies larger than this are cut off (a health check or a rates feed
  /// never needs more).
  public static let maxBody = 16 << 20
  public static let userAgent = "opsdeck"

  private static let initialised: Bool = {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    return true
  }()

  /// Performs `request`; `label` (the dependency's name) starts every error.
  public static func perform(_ request: HTTPRequest, timeouts: HTTPTimeouts, label: String) throws(HTTPFailure)
    -> HTTPResponse
  {
    _ = initialised
    guard let handle = curl_easy_init() else {
      throw HTTPFailure(kind: .other, message: "\(label): curl_easy_init failed")
    }
    defer { curl_easy_cleanup(handle) }
    let sink = BodySink()
    let context = Unmanaged.passUnretained(sink).toOpaque()
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    var headers: UnsafeMutablePointer<curl_slist>? = nil
    defer { curl_slist_free_all(headers) }
    for (name, value) in request.headers {
      headers = curl_slist_append(headers, "\(name): \(value)")
    }
    let started = DispatchTime.now().uptimeNanoseconds
    let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
      curl_easy_setopt_string(handle, CURLOPT_URL, request.url)
      curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
      curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connectMilliseconds))
      curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeouts.totalMilliseconds))
      if timeouts.lowSpeedBytesPerSecond > 0 {
        curl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, timeouts.lowSpeedBytesPerSecond)
        curl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(timeouts.lowSpeedMilliseconds / 1000)))
      }
      curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https,file")
      curl_easy_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
      curl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
      curl_easy_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
      curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
      curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
      curl_easy_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
      curl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
      curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
      curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
        let sink = Unmanaged<BodySink>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        if sink.data.count + length > HTTPClient.maxBody { return 0 }
        if let data { sink.data.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length) }
        return length
      }
      curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
      if let headers { curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headers) }
      switch request.method {
      case "GET": break
      case "POST": curl_easy_setopt_long(handle, CURLOPT_POST, 1)
      default: curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
      }
      if let body = request.body {
        curl_easy_setopt_int64(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        body.withUnsafeBytes { bytes in
          _ = curl_easy_setopt_pointer(
            handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
      }
      return curl_easy_perform(handle)
    }
    let milliseconds = Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
    guard code == CURLE_OK else {
      let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
      let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
      throw failure(code, text: text, handle: handle, timeouts: timeouts, label: label)
    }
    var status = 0
    curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
    // libcurl has no status for a file: one read in full answers as a 200 would.
    if status == 0 && request.url.lowercased().hasPrefix("file:") { status = 200 }
    return HTTPResponse(status: status, body: sink.data, milliseconds: milliseconds)
  }

  private static func failure(
    _ code: CURLcode, text: String, handle: UnsafeMutableRawPointer, timeouts: HTTPTimeouts, label: String
  ) -> HTTPFailure {
    func limit(_ milliseconds: Int64) -> String { Duration.milliseconds(milliseconds).compactText }
    switch code {
    case CURLE_OPERATION_TIMEDOUT:
      if text.contains("too slow") {
        return HTTPFailure(
          kind: .tooSlow,
          message:
            "\(label): slower than \(timeouts.lowSpeedBytesPerSecond) bytes/s for \(limit(timeouts.lowSpeedMilliseconds)) (low_speed_limit)"
        )
      }
      if text.hasPrefix("Connection timed out") || text.hasPrefix("Failed to connect") {
        return HTTPFailure(
          kind: .connectTimeout,
          message: "\(label): no connection within \(limit(timeouts.connectMilliseconds)) (connect_timeout)")
      }
      return HTTPFailure(
        kind: .timeout, message: "\(label): no complete answer within \(limit(timeouts.totalMilliseconds)) (timeout)")
    case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
      return HTTPFailure(kind: .badURL, message: "\(label): \(text)")
    case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
      return HTTPFailure(kind: .connect, message: "\(label): \(text)")
    case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM:
      return HTTPFailure(kind: .tls, message: "\(label): \(text)")
    default:
      return HTTPFailure(kind: .other, message: "\(label): \(text)")
    }
  }
}

/// The body as it arrives, for the write callback.
private final class BodySink {
  var data = Data()
}
