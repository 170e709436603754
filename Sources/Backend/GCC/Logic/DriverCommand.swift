// LTOGCC owns what ltod knows about GCC's LTO, as pure logic: the driver protocol
// (response files, telling WPA from LTRANS invocations, the LTRANS output list,
// predicting lto-wrapper's LTRANS commands, COLLECT_GCC_OPTIONS and partitioning, the
// launcher's view of a command line), the cache key of an LTRANS job, the grammar of the
// `.gnu.lto_*` sections (Format/), what changed between two links' inputs and why a
// partition was rebuilt. No I/O happens here (files are read through closures), so all of
// it is unit-tested without processes. Foundation-free: the shim links this module.

/// One invocation of the compiler driver made by lto-wrapper, classified.
public enum DriverCommand: Equatable, Sendable {
    /// `-fwpa`: whole-program analysis writing partitions and an output list.
    case wpa(WPACommand)
    /// `-fltrans`: code generation for one partition.
    case ltrans(LTRANSCommand)
    /// Anything else (e.g. non-partitioned `-flinker-output=rel` LTO): run as it is, uncached.
    case other

    /// Classifies driver arguments (argv without argv[0], response files expanded).
    public static func classify(_ args: [String]) -> DriverCommand {
        if args.contains("-fltrans"), let job = LTRANSCommand(args) { return .ltrans(job) }
        if args.contains(where: { $0 == "-fwpa" || $0.hasPrefix("-fwpa=") }), let job = WPACommand(args) { return .wpa(job) }
        return .other
    }
}

/// A WPA invocation: `... -dumpbase PFXwpa -fltrans-output-list=L -fwpa[=N] ... objects`.
public struct WPACommand: Equatable, Sendable {
    public let args: [String]
    /// Where WPA writes the list of partitions.
    public let outputList: String
    /// The arguments lto-wrapper puts before every LTRANS command's dumpbase value
    /// (everything up to and including the last `-dumpbase` before the output list option).
    public let ltransHead: [String]
    /// The dump prefix lto-wrapper derives LTRANS dumpbases from (`app.` in `app.wpa`).
    public let dumpPrefix: String
    /// lto-wrapper passes a bare `-fwpa` exactly when it will run the LTRANS jobs one after
    /// another (no `-flto=N`, `auto` or jobserver); `-fwpa=N` and `-fwpa=jobserver` mean parallel.
    public var ltransRunsSerially: Bool { args.contains("-fwpa") }

    /// Whether the file `name`, in the output list's directory, is one of the partitions this
    /// WPA writes: `<list's name without .out>N.o` (lto.cc, do_stream_out).
    public func writesPartition(named name: String) -> Bool {
        let list = outputList.split(separator: "/").last.map(String.init) ?? outputList
        let stem = list.hasSuffix(".out") ? String(list.dropLast(4)) : list
        guard name.hasPrefix(stem), name.hasSuffix(".o") else { return false }
        let number = name.dropFirst(stem.count).dropLast(2)
        return !number.isEmpty && number.allSatisfy { $0.isASCII && $0.isNumber }
    }

    init?(_ args: [String]) {
        guard let listIndex = args.lastIndex(where: { $0.hasPrefix("-fltrans-output-list=") }),
              listIndex >= 2, args[listIndex - 2] == "-dumpbase",
              args[listIndex - 1].hasSuffix("wpa")
        else { return nil }
        self.args = args
        outputList = String(args[listIndex].dropFirst("-fltrans-output-list=".count))
        ltransHead = Array(args[..<(listIndex - 1)])
        dumpPrefix = String(args[listIndex - 1].dropLast(3))
    }

    /// The LTRANS command lto-wrapper will run for partition `index` read from `input`
    /// (lto-wrapper.cc: head, `PFXltransN.ltrans`, `-fltrans`, `-o`, input minus `.o` plus `.ltrans.o`, input).
    public func predictedLTRANS(index: Int, input: String) -> LTRANSCommand? {
        guard input.hasSuffix(".o") else { return nil }
        let output = String(input.dropLast(2)) + ".ltrans.o"
        let args = ltransHead + ["\(dumpPrefix)ltrans\(index).ltrans", "-fltrans", "-o", output, input]
        return LTRANSCommand(args)
    }
}

/// An LTRANS invocation: `... -dumpbase D -fltrans -o OUT IN`.
public struct LTRANSCommand: Equatable, Sendable {
    public let args: [String]
    public let input: String
    public let output: String
    public let dumpbase: String?

    init?(_ args: [String]) {
        guard let input = args.last, !input.hasPrefix("-"),
              let o = args.lastIndex(of: "-o"), o + 1 < args.count - 1
        else { return nil }
        self.args = args
        self.input = input
        output = args[o + 1]
        dumpbase = args.lastIndex(of: "-dumpbase").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    }

    /// The arguments with the per-run names (input, output, dumpbase) and the directories of
    /// `-B` replaced by fixed tokens, and with `-dumpdir` too unless `scope` is exact: the
    /// command-line part of the cache key. Everything else is kept, in order. A `-B`
    /// directory only chooses the programs and specs the driver uses, and those are keyed by
    /// their contents (the compiler's identity, probed with the same `-B` options), so where
    /// they are installed stays out of the key.
    public func keyArguments(scope: KeyScope) -> [String] {
        var tokens = ["-o": "<output>", "-dumpbase": "<dumpbase>", "-B": "<prefix>"]
        if scope != .exact { tokens["-dumpdir"] = "<dumpdir>" }
        var out: [String] = []
        out.reserveCapacity(args.count)
        var i = 0
        while i < args.count {
            let a = args[i]
            if let token = tokens[a], i + 1 < args.count - 1 {
                out += [a, token]
                i += 2
                continue
            }
            if a.hasPrefix("-B"), a.count > 2, i < args.count - 1 {
                out.append("-B<prefix>")
                i += 1
                continue
            }
            out.append(i == args.count - 1 ? "<input>" : a)
            i += 1
        }
        return out
    }

    /// What the key of this job may leave out (`LTRANSWhitelist`).
    public var keyScope: KeyScope { LTRANSWhitelist.scope(of: args) }

    /// The arguments with the input partition and the output object replaced: the same job on other files.
    public func retargeted(input newInput: String, output newOutput: String) -> [String] {
        var out = args
        out[out.count - 1] = newInput
        if let o = out.lastIndex(of: "-o") { out[o + 1] = newOutput }
        return out
    }

    /// Why this job must run uncached, or nil when its only output is the object file.
    /// Options that write side files (dumps, temps, stack usage), read files that are
    /// not in the key (profiles, plugins, specs), or wrap the tools are never cached.
    public var uncacheableReason: String? {
        for (i, a) in args.enumerated() {
            let writesOrReads = Self.uncacheablePrefixes.contains { a.hasPrefix($0) }
                || (a.hasPrefix("-Wa,") && Self.assemblerOptionTouchesFiles(a))
                || a == "-Xassembler" || (i > 0 && args[i - 1] == "-Xassembler")
            if writesOrReads { return "option \(a) writes or reads files outside the cache key" }
        }
        return nil
    }

    static let uncacheablePrefixes = [
        "-save-temps", "-fdump-", "-fstack-usage", "-fcallgraph-info", "-fopt-info", "-da", "-dA",
        "-fprofile-use", "-fauto-profile", "-fbranch-probabilities", "-fprofile-dir", "-fplugin",
        "-specs", "-wrapper", "-ftime-report", "-fmem-report", "-flto-report", "-fcompare-debug",
        "-frecord-gcc-switches-file", "-aux-info", "-fdiagnostics-format=sarif", "-fprofile-note",
        "-fsave-optimization-record", "-gsplit-dwarf", "--coverage", "-ftest-coverage",
    ]

    /// Assembler options that write listings or dependency files, or read response files.
    static func assemblerOptionTouchesFiles(_ option: String) -> Bool {
        option.dropFirst(4).split(separator: ",").contains { o in
            o.hasPrefix("-a") || o.hasPrefix("--MD") || o.hasPrefix("-MD") || o.hasPrefix("@")
        }
    }
}

/// Options of a driver command line that change which programs it runs.
public enum DriverOptions {
    /// The `-B` prefixes (`-B DIR` and `-BDIR`), in order: they choose lto1 and as.
    public static func prefixes(_ args: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            if args[i] == "-B", i + 1 < args.count {
                out += ["-B", args[i + 1]]
                i += 2
                continue
            }
            if args[i].hasPrefix("-B") { out.append(args[i]) }
            i += 1
        }
        return out
    }
}
