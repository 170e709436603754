import Foundation
import LTOTestSupport
import Testing

extension EndToEnd {
    /// Inputs of LTRANS that are not in the partition bytes, found in review and reproduced:
    /// each must change what ltod does exactly as it changes what plain gcc does.
    @Suite struct KeyCompletenessTests {
        func fixture(_ name: String, source: String, flags: [String] = ["-O2"]) throws -> (TemporaryDirectory, Daemon, LinkCheck) {
            let scratch = try TemporaryDirectory(name)
            let daemon = try Daemon(in: scratch)
            let dir = try scratch.sub("src")
            try source.write(toFile: dir + "/a.c", atomically: false, encoding: .utf8)
            var check = LinkCheck(directory: dir, objects: ["a.o"])
            check.compileFlags = flags
            try check.compile(["a.c"])
            return (scratch, daemon, check)
        }

        @Test func filesTheAssemblerReadsAreNeverCached() throws {
            let source = """
            __asm__(".section .rodata\\n.globl blob\\nblob: .incbin \\"data.bin\\"\\n.byte 0\\n.previous");
            extern const char blob[];
            int puts(const char *);
            int main(void) { puts(blob); return 0; }

            """
            let (scratch, daemon, check) = try fixture("incbin", source: source)
            defer { withExtendedLifetime(scratch) {} }
            try "version-ONE".write(toFile: check.directory + "/data.bin", atomically: false, encoding: .utf8)
            try check.compareLinks(daemon)
            try "version-TWO".write(toFile: check.directory + "/data.bin", atomically: false, encoding: .utf8)
            try check.compareLinks(daemon)
            let out = try Shell.run(["./app"], cwd: check.directory)
            #expect(out.stdout == "version-TWO\n")
            #expect(try daemon.stat("ltrans.reused") == 0)
            #expect(try daemon.stat("ltrans.uncacheable") >= 2)
        }

        @Test func anAssemblerAppearingInPATHIsNoticed() throws {
            let (scratch, daemon, check) = try fixture("path", source: "int main(void) { return 0; }\n")
            // A directory first in PATH, empty at first; later an `as` appears in it that adds
            // a section to every object it writes.
            let bin = try scratch.sub("fakebin")
            let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            try Shell.check(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app"] + check.objects,
                            cwd: check.directory, env: daemon.env.merging(["PATH": path]) { $1 })
            let fake = """
            #!/bin/sh
            /usr/bin/as "$@" || exit $?
            out=a.out
            while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
            objcopy --add-section .marker=/dev/null "$out"

            """
            try fake.write(toFile: bin + "/as", atomically: false, encoding: .utf8)
            chmod(bin + "/as", 0o755)
            try Shell.check(["gcc"] + check.linkFlags + check.plainExtra + ["-o", "app.plain"] + check.objects, cwd: check.directory, env: ["PATH": path])
            try Shell.check(["gcc", "-B", try Products.libexec()] + check.linkFlags + ["-o", "app"] + check.objects,
                            cwd: check.directory, env: daemon.env.merging(["PATH": path]) { $1 })
            #expect(sameBytes(check.directory + "/app", check.directory + "/app.plain"))
            #expect(try Explain(daemon).reused == 0, "a different assembler must not reuse objects")
        }

        @Test func bytesThatAreNotUTF8ReachGCCUnchanged() throws {
            try Products.require()
            let scratch = try TemporaryDirectory("latin1")
            // A directory named with a Latin-1 byte, mapped away in debug info. Such a link runs
            // without ltod, exactly as given, so it equals plain gcc with the user's own flags.
            let script = """
            set -e
            dir=$'\(scratch.path)/caf\\xe9'
            mkdir -p "$dir" && cd "$dir"
            printf 'int main(void) { return 0; }\\n' > a.c
            gcc -O2 -g -flto -c a.c
            gcc -O2 -g -flto -fdebug-prefix-map="$dir"=/MAPPED -o app.plain a.o
            gcc -B "\(try Products.libexec())" -O2 -g -flto -fdebug-prefix-map="$dir"=/MAPPED -o app a.o
            cmp app app.plain

            """
            let daemon = try Daemon(in: scratch)
            let r = try Shell.run(["bash", "-c", script], cwd: scratch.path, env: daemon.env)
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }

        @Test func sideOutputsAreWrittenOnEveryLink() throws {
            var (scratch, daemon, check) = try fixture("record", source: "int main(void) { return 0; }\n")
            defer { withExtendedLifetime(scratch) {} }
            check.linkFlags = ["-O2", "-flto", "-fsave-optimization-record"]
            for _ in 0..<2 {
                for file in try FileManager.default.contentsOfDirectory(atPath: check.directory) where file.contains("opt-record") {
                    try FileManager.default.removeItem(atPath: check.directory + "/" + file)
                }
                try check.linkThroughLtod(daemon)
                let records = try FileManager.default.contentsOfDirectory(atPath: check.directory).filter { $0.contains("ltrans") && $0.contains("opt-record") }
                #expect(!records.isEmpty, "the LTRANS optimization record must be written on every link")
            }
            #expect(try daemon.stat("ltrans.reused") == 0)
        }
    }
}
