import ArgumentParser
import RuleGen
import ScanModel

struct Collect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the script that gathers a server's logs, events and firewall record for ocslog.",
        discussion: """
            The script, run on each OCS, Lync or Skype for Business server (elevated), copies into \
            one folder named after the server (ocslog-COMPUTERNAME): the deployment wizard's, \
            LCSCmd's and Windows Installer logs from every profile's temporary folder, the System, \
            Application, OCS/Lync and Windows Firewall events of the last days as XML, the firewall \
            policy as a registry export, the netsh listing of the firewall rules (Windows Server 2003 \
            or 2008 and later, chosen on the server) and the computer's name. It only reads and \
            copies; it changes nothing on the server. Copy the folder off and scan it:

              ocslog collect --shell cmd -o ocslog-collect.cmd
              (on the server)  ocslog-collect.cmd
              ocslog scan ocslog-FE01/
            """)

    enum ShellName: String, ExpressibleByArgument, CaseIterable {
        case cmd, powershell
    }

    @Option(help: "The script's language: cmd (Windows Server 2003 and later) or powershell (2008 R2 and later).")
    var shell: ShellName = .cmd

    @Option(help: "How many days of events to gather.")
    var days: Int = 30

    @Option(
        name: .shortAndLong, help: "Write the script to this file (whole or not at all) instead of standard output.")
    var output: String?

    func validate() throws {
        guard (1...3650).contains(days) else { throw ValidationError("--days must be 1 to 3650") }
    }

    func run() throws {
        let script = CollectScript.render(
            shell == .cmd ? .cmd : .powershell, days: days, generator: Generator(version: OCSLog.version))
        try CommandSupport.write(script, to: output)
    }
}
