import ScanModel

/// The firewall rule grammar of Windows Server 2008 and later ([MS-GPFAS] 2.2.2.19):
/// `v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|LPort=5061|App=…|Name=…|`.
/// Fields may repeat (`LPort`, `Profile`, `RA4`, `RA6`); the keywords are the grammar's, not a language's.
enum RuleString {
    static func parse(_ text: String, words: FirewallWords) -> FirewallRule {
        var rule = FirewallRule()
        var tokens = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        if tokens.last == "" { tokens.removeLast() }
        guard let version = tokens.first, version.hasPrefix("v2."), version.dropFirst(3).allSatisfy(\.isNumber),
            version.count > 3
        else {
            rule.problems = ["the rule string does not begin with a version (v2.NN|): '\(text.prefix(60))'"]
            return rule
        }
        var seen: Set<String> = []
        var sawAction = false
        var sawDirection = false
        for token in tokens.dropFirst() {
            guard let equals = token.firstIndex(of: "=") else {
                rule.problems.append("a field without '=' ('\(token.prefix(40))'): a value may hold '|'")
                continue
            }
            let key = String(token[..<equals])
            let value = String(token[token.index(after: equals)...])
            let single = ["Action", "Active", "Dir", "Protocol", "App", "Svc", "Name", "EmbedCtxt"]
            if single.contains(key), !seen.insert(key).inserted {
                rule.problems.append("'\(key)' is stated twice")
            }
            switch key {
            case "Action":
                sawAction = true
                switch value.lowercased() {
                case "allow": rule.action = .allow
                case "block": rule.action = .block
                default: rule.problems.append("action '\(value.prefix(40))' could not be read")
                }
            case "Active":
                switch value.uppercased() {
                case "TRUE": rule.enabled = true
                case "FALSE": rule.enabled = false
                default: rule.problems.append("active '\(value.prefix(40))' could not be read")
                }
            case "Dir":
                sawDirection = true
                switch value.lowercased() {
                case "in": rule.direction = .inbound
                case "out": rule.direction = .outbound
                default: rule.problems.append("direction '\(value.prefix(40))' could not be read")
                }
            case "Protocol":
                if let number = Int(value), (0...256).contains(number), value.allSatisfy(\.isNumber) {
                    rule.protocolNumber = number == 256 ? nil : number
                } else {
                    rule.problems.append("protocol '\(value.prefix(40))' is not a number 0-255")
                }
            case "Profile": rule.profiles.append(value)
            case _ where key.hasPrefix("LPort"):
                let (ports, problems) = FirewallRule.ports(value, anyWords: words.anyWords)
                rule.localPorts += ports
                rule.problems += problems
                if ports.isEmpty, problems.isEmpty {
                    rule.problems.append("local port '\(value.prefix(40))' could not be read")
                }
            case "RA4", "RA6", "RA42", "RA62": rule.remoteAddresses.append(value)
            case "LA4", "LA6", "LA42", "LA62": rule.localAddresses.append(value)
            case "Security", "Security2", "Security2_9":
                if value.lowercased() != "notrequired" { rule.security = value }
            case "App": rule.program = value
            case "Svc": rule.service = value == "*" ? nil : value
            case "Name": rule.name = value
            case "EmbedCtxt": rule.group = value
            default: break  // RPort, Desc, Edge, Security, ICMP4, … open nothing more
            }
        }
        if !sawAction { rule.problems.append("the rule string states no Action") }
        if !rule.localPorts.isEmpty, rule.protocolNumber != 6, rule.protocolNumber != 17 {
            rule.problems.append("local ports without TCP or UDP")
        }
        if !sawDirection { rule.problems.append("the rule string states no Dir") }
        return rule
    }
}
