import ArgumentParser
import Foundation
import Knowledge
import Report
import ScanModel

struct Roles: ParsableCommand, TerminalConfigurable {
    static let configuration = CommandConfiguration(
        abstract: "List the server roles, how ocslog recognises them, and their documented ports.",
        discussion: """
            Each role with its id (what --role takes and what JSON output says), its name, its \
            weight in the ranking, the wizard steps, MSI products, programs and services that \
            identify it in logs, and its documented ports (origin "likely" is marked with ?).

            --patterns writes the literal words one of which a line must contain before any text \
            signature is tried (the prefilter), one extended regular expression per line, so that \
            grep and ripgrep can be run on the same candidate lines as ocslog (the benchmark does).

            Examples:
              ocslog roles
              ocslog roles --format json | jq '.[] | {id, ports}'
              ocslog roles --patterns > patterns.txt && rg -ci -f patterns.txt big.log
            """)

    @Option(help: "text or json.")
    var format: Scan.OutputFormat = .text

    @Flag(help: "Write the prefilter's words as a pattern list (for grep -E -f and rg -f) instead.")
    var patterns = false

    @Option(help: "A folder of YAML files that add to or replace the built-in knowledge.")
    var knowledge: String?

    @OptionGroup(title: "Terminal") var terminal: TerminalOptions

    struct Entry: Encodable {
        var id: RoleID
        var name: String
        var weight: Int
        var steps: [String]
        var products: [String]
        var programs: [String]
        var services: [String]
        var ports: [Port]
    }

    struct Port: Encodable {
        var protocols: [String]
        var ports: String
        var interface: EdgeInterface?
        var purpose: String
        var origin: String
    }

    func run() throws {
        let knowledgeBase = try CommandSupport.knowledge(from: knowledge, checking: [])
        if patterns {
            try CommandSupport.write(Self.patternList(knowledgeBase.prefilterWords), to: nil)
            return
        }
        let entries = knowledgeBase.roles.map { role in
            Entry(
                id: role.id, name: role.name, weight: role.weight, steps: role.steps, products: role.products,
                programs: role.programs, services: role.services,
                ports: knowledgeBase.ports.filter { $0.role == role.id }.map {
                    Port(
                        protocols: $0.protocols.map(\.rawValue), ports: $0.range.description, interface: $0.interface,
                        purpose: $0.purpose, origin: $0.origin.rawValue)
                })
        }
        if format != .text {
            try CommandSupport.write(try JSONDocument.render(entries) + "\n", to: nil)
            return
        }
        let style = Style.forStandardOutput
        var out = ""
        for entry in entries {
            out += "\(style.role(entry.id))  \(entry.name)  (weight \(entry.weight))\n"
            func list(_ label: String, _ values: [String]) {
                guard !values.isEmpty else { return }
                out += "  \(label): \(values.joined(separator: ", "))\n"
            }
            list("steps", entry.steps)
            list("products", entry.products)
            list("programs", entry.programs)
            list("services", entry.services)
            if !entry.ports.isEmpty {
                out += "  ports:\n"
                for port in entry.ports {
                    var line = "    \(port.protocols.joined(separator: "+"))/\(port.ports)"
                    if let interface = port.interface { line += " (\(interface))" }
                    line += "  \(port.purpose)\(port.origin == "likely" ? " ?" : "")"
                    out += line + "\n"
                }
            }
            out += "\n"
        }
        try CommandSupport.write(out, to: nil)
    }

    /// The words as extended regular expressions: metacharacters escaped, one per line.
    static func patternList(_ words: [String]) -> String {
        let special = Set(#"\.[]()*+?{}|^$"#)
        return words.map { word in
            String(word.flatMap { special.contains($0) ? ["\\", $0] : [$0] })
        }.joined(separator: "\n") + "\n"
    }
}
