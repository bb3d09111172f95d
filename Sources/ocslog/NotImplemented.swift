import ArgumentParser

/// A subcommand whose work belongs to a later issue: it says so and exits 2, and never pretends.
protocol PlannedCommand: ParsableCommand {
    /// The issue that delivers this subcommand.
    static var issue: Int { get }
}

extension PlannedCommand {
    func run() throws {
        let name = Self._commandName
        printError("ocslog \(name): not implemented yet (planned in issue #\(Self.issue)); nothing was done.")
        throw ExitStatus.inputError
    }
}

/// Options the planned subcommands will take; accepted now so that scripts can be written against them.
struct PlannedInputs: ParsableArguments {
    @Argument(help: "Log files or folders (standard input when none).")
    var paths: [String] = []
}

struct Roles: PlannedCommand {
    static let issue = 9
    static let configuration = CommandConfiguration(
        abstract: "List the server roles, their programs and documented ports (not yet implemented).")
}
