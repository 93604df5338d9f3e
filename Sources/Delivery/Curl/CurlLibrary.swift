import CCurl

/// The libcurl this binary is linked against.
public enum CurlLibrary {
  /// For example `libcurl/7.88.1 OpenSSL/3.0.17 zlib/1.2.13`.
  public static var version: String { String(cString: curl_version()) }
}
