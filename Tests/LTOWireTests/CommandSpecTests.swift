import Testing
@testable import LTOWire

@Suite struct CommandSpecTests {
    let stats = CommandSpec.named("stats")!

    @Test func optionsFlagsAndTheOperandAreChecked() throws {
        let parsed = try stats.parse(["--json", "--format=prometheus", "app"])
        #expect(parsed.has("--json") && parsed.values["--format"] == "prometheus" && parsed.operand == "app")
        #expect(try stats.parse(["--format", "json"]).values["--format"] == "json")
        for bad in [["--bogus"], ["--format"], ["a", "b"], ["-x"]] {
            #expect(throws: CommandLineError.self, "\(bad)") { try stats.parse(bad) }
        }
        #expect(throws: CommandLineError.self) { try CommandSpec.named("max-size")!.parse([]) }
        #expect(throws: CommandLineError.self) { try CommandSpec.named("clear")!.parse(["now"]) }
    }

    @Test func aUsageErrorNamesTheOptionAndShowsTheSynopsis() {
        do {
            _ = try stats.parse(["--bogus"])
        } catch {
            #expect(error.description == "stats: unknown option --bogus\nusage: ltoc stats [--json] [--zero] [--format text|json|prometheus] [TARGET]")
        }
    }

    @Test func ccacheSpellingsStandForCommands() {
        #expect(CommandSpec.alias("-s")! == ("stats", []))
        #expect(CommandSpec.alias("--show-stats")! == ("stats", []))
        #expect(CommandSpec.alias("-z")! == ("stats", ["--zero"]))
        #expect(CommandSpec.alias("--zero-stats")! == ("stats", ["--zero"]))
        #expect(CommandSpec.alias("-C")! == ("clear", []))
        #expect(CommandSpec.alias("-M")! == ("max-size", []))
        #expect(CommandSpec.alias("-p")! == ("config", []))
        #expect(CommandSpec.alias("--stats") == nil)
        for alias in CommandSpec.aliases { #expect(CommandSpec.named(alias.command) != nil) }
    }

    @Test func oneEditAwayIsSuggested() {
        #expect(CommandSpec.suggestions(for: "stat") == ["stats"])
        #expect(CommandSpec.suggestions(for: "expalin") == ["explain"])
        #expect(CommandSpec.suggestions(for: "claer") == ["clear"])
        #expect(CommandSpec.suggestions(for: "gcc") == ["gc"])
        #expect(CommandSpec.suggestions(for: "clang").isEmpty)
        #expect(CommandSpec.suggestions(for: "progres").isEmpty, "internal commands are not suggested")
        #expect(editDistance("status", "stats") == 1 && editDistance("abc", "cba") == 2 && editDistance("", "ab") == 2)
    }
}

@Suite struct HelloAnswerTests {
    @Test func theHandshakeTellsTheDaemonsVersion() {
        #expect(HelloAnswer(.hello(version: Protocol.version, pid: 7)) == .accepted(pid: 7))
        #expect(HelloAnswer(.hello(version: 1, pid: 7)) == .otherVersion(1, pid: 7))
        #expect(HelloAnswer(.failure("ltod serves only uid 0")) == .refused("ltod serves only uid 0"))
    }

    @Test func aProtocolOneDaemonsRefusalNamesItsVersion() {
        // What ltod 0.1 answers to a hello of any other version.
        let refusal = "protocol version 2 is not supported (this build speaks 1); restart the daemon with `ltoc shutdown`"
        #expect(HelloAnswer(.failure(refusal)) == .otherVersion(1, pid: nil))
    }
}
