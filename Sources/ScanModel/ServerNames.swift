/// The servers of a scan: names as the logs state them, compared without case, a NetBIOS name
/// (`FE01`) the same server as the one fully qualified name that starts with it (`fe01.contoso.com`).
public struct ServerNames: Sendable {
    /// Each distinct name (lower-cased) → the spelling shown: the first written, a qualified name
    /// for a NetBIOS name that has exactly one.
    private var shown: [String: String] = [:]

    public init(_ names: [String]) {
        var first: [String: String] = [:]
        for name in names where first[name.lowercased()] == nil { first[name.lowercased()] = name }
        var qualified: [String: [String]] = [:]
        for key in first.keys.sorted() where key.contains(".") {
            qualified[String(key.split(separator: ".")[0]), default: []].append(key)
        }
        for (key, name) in first {
            if !key.contains("."), let candidates = qualified[key], candidates.count == 1,
                let full = first[candidates[0]]
            {
                shown[key] = full
            } else {
                shown[key] = name
            }
        }
    }

    /// The name a stated name is shown as (the same server's one spelling).
    public func canonical(_ name: String) -> String { shown[name.lowercased()] ?? name }
}
