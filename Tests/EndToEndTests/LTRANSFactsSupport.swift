// Support for LTRANSFactsTests: build a small project with `gcc -flto -flto-partition=1to1
// -save-temps`, keep its partitions, their LTRANS outputs and the exact LTRANS driver arguments
// lto-wrapper used (`app.ltransN.ltrans_args`), and rerun LTRANS on a partition with other names,
// in another directory or with other options.
//
// Private to the facts tests for now (the LTOObjectTests target has its own partition helper);
// meant to move into a shared test-support target.
import Foundation
import LTOTestSupport
import Testing

/// The sources of a project: relative path -> text.
struct FactsProject {
    var files: [String: String]
    /// The compiler driver (`gcc` or `g++`) used to compile and to link.
    var driver = "gcc"

    var sourceFiles: [String] { files.keys.filter { $0.hasSuffix(".c") || $0.hasSuffix(".cc") }.sorted() }

    /// A copy with `count` blank lines put before the first line of `file`: every location
    /// in it moves `count` lines down, nothing else changes.
    func shifted(_ file: String, by count: Int = 3) -> FactsProject {
        var p = self
        p.files[file] = String(repeating: "\n", count: count) + files[file]!
        return p
    }

    /// A copy with `count` blank lines put after line `line` of `file` (1-based).
    func blankLines(in file: String, after line: Int, count: Int = 2) -> FactsProject {
        var p = self
        var lines = files[file]!.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert(contentsOf: Array(repeating: "", count: count), at: line)
        p.files[file] = lines.joined(separator: "\n")
        return p
    }

    /// A copy with every line of `file` indented by `count` more spaces: every column moves.
    func indented(_ file: String, by count: Int = 3) -> FactsProject {
        var p = self
        let pad = String(repeating: " ", count: count)
        p.files[file] = files[file]!.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
        return p
    }

    /// A copy with `file` renamed to `name` (the file name recorded in locations changes).
    func renamed(_ file: String, to name: String) -> FactsProject {
        var p = self
        p.files[name] = p.files.removeValue(forKey: file)
        return p
    }

    /// Every file shifted and indented: all lines and columns of the project move.
    func everyLocationMoved() -> FactsProject {
        var p = self
        for f in files.keys { p = p.shifted(f, by: 2).indented(f, by: 1) }
        return p
    }

    /// Writes the sources into `root` (emptied first), compiles each with `compile` plus `-flto -c`
    /// in `root`, links there with `link` plus `-flto -flto-partition=1to1 -save-temps -o output`,
    /// and copies partitions, LTRANS outputs and the program to `keep` (a directory created here),
    /// so that the next build may reuse `root`: WPA records its working directory in partitions.
    func build(in root: String, compile: [String], link: [String]? = nil, output: String = "app",
               keep: String, env: [String: String] = [:]) throws -> FactsLink {
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, text) in files {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
        var objects: [String] = []
        for source in sourceFiles {
            let object = (source as NSString).deletingPathExtension + ".o"
            try Shell.check([driver] + compile + ["-flto", "-c", source, "-o", object], cwd: root, env: env)
            objects.append(object)
        }
        let linked = try Shell.check([driver] + (link ?? compile) + ["-flto", "-flto-partition=1to1", "-save-temps", "-o", output]
                                     + objects, cwd: root, env: env)
        return try FactsLink(collectFrom: root, output: output, into: keep, driver: driver, stderr: linked.stderr)
    }
}

/// The partitions of one link, keyed by the symbols their LTRANS output defines.
struct FactsLink {
    struct Partition {
        /// Defined symbols of the LTRANS output, sorted and joined: the partition's identity.
        let symbols: String
        /// The partition file (a copy) and its LTRANS output (a copy).
        let input: String
        let output: String
        /// The driver arguments lto-wrapper ran LTRANS with (from `OUT.ltransN.ltrans_args`).
        let ltransArguments: [String]
    }

    let driver: String
    let program: String
    let partitions: [String: Partition]
    /// What the link printed on stderr (LTRANS diagnostics included).
    let stderr: String

    init(collectFrom root: String, output: String, into keep: String, driver: String, stderr: String) throws {
        self.driver = driver
        self.stderr = stderr
        try? FileManager.default.removeItem(atPath: keep)
        try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        program = keep + "/" + output
        try FileManager.default.copyItem(atPath: root + "/" + output, toPath: program)
        var found: [String: Partition] = [:]
        var index = 0
        while FileManager.default.fileExists(atPath: "\(root)/\(output).ltrans\(index).o") {
            let input = "\(keep)/\(output).ltrans\(index).o", result = "\(keep)/\(output).ltrans\(index).ltrans.o"
            try FileManager.default.copyItem(atPath: "\(root)/\(output).ltrans\(index).o", toPath: input)
            try FileManager.default.copyItem(atPath: "\(root)/\(output).ltrans\(index).ltrans.o", toPath: result)
            let args = try String(contentsOfFile: "\(root)/\(output).ltrans\(index).ltrans_args", encoding: .utf8)
                .split(separator: "\n").map(String.init)
            let symbols = try definedSymbols(result)
            found[symbols] = Partition(symbols: symbols, input: input, output: result, ltransArguments: args)
            index += 1
        }
        partitions = found
    }

    /// The partition whose LTRANS output defines `symbol`.
    func partition(defining symbol: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Partition {
        let matches = partitions.values.filter { $0.symbols.split(separator: ",").contains(Substring(symbol)) }
        return try #require(matches.count == 1 ? matches.first : nil, "one partition defining \(symbol) in \(partitions.keys.sorted())",
                            sourceLocation: sourceLocation)
    }

    /// Reruns LTRANS on `partition`'s input copied to `input`, writing `output`, with the given
    /// dump names, in `directory`, with `extra` options put before the names. Returns the output path.
    @discardableResult
    func rerun(_ partition: Partition, input: String, output: String, dumpdir: String, dumpbase: String,
               in directory: String, extra: [String] = []) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let inputPath = input.hasPrefix("/") ? input : directory + "/" + input
        try FileManager.default.createDirectory(atPath: (inputPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: inputPath)
        try FileManager.default.copyItem(atPath: partition.input, toPath: inputPath)
        var args: [String] = []
        var i = 0
        let all = Array(partition.ltransArguments.dropLast())  // the last is the input
        while i < all.count {
            let a = all[i]
            if a == "-o" || a == "-dumpdir" || a == "-dumpbase" { i += 2; continue }
            if a != "-save-temps" && a != "-v" && a != "-fltrans" { args.append(a) }
            i += 1
        }
        let outputPath = output.hasPrefix("/") ? output : directory + "/" + output
        try FileManager.default.createDirectory(atPath: (outputPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Shell.check([driver] + args + extra + ["-dumpdir", dumpdir, "-dumpbase", dumpbase, "-fltrans", "-o", output, input],
                        cwd: directory)
        return outputPath
    }
}

/// The defined, named symbols of an object (`nm --defined-only`), sorted, joined by commas.
func definedSymbols(_ object: String) throws -> String {
    let out = try Shell.check(["nm", "--defined-only", object], cwd: "/").stdout
    return out.split(separator: "\n").compactMap { line -> String? in
        let f = line.split(separator: " ")
        guard f.count == 3, "TtDdBbRr".contains(f[1]), !f[2].hasPrefix(".") else { return nil }
        return String(f[2])
    }.sorted().joined(separator: ",")
}

/// A partition's sections by name, with what is known to vary between identical WPA runs
/// removed: the random suffix of `.gnu.lto_*` section names (in names and in `.shstrtab`) and the value of
/// `-fltrans-output-list=` in `.gnu.lto_.opts` (section offsets follow the contents, so sections
/// are compared, not files).
func normalizedPartitionBytes(_ path: String) throws -> [String: Data] {
    let sections = try sectionContents(path)
    guard let decls = sections.keys.first(where: { $0.hasPrefix(".gnu.lto_.decls.") }) else { return sections }
    let id = "." + decls.dropFirst(".gnu.lto_.decls.".count)
    var result: [String: Data] = [:]
    for (name, data) in sections {
        let plain = name.hasSuffix(id) ? String(name.dropLast(id.count)) : name
        var contents = data
        if plain == ".shstrtab", let text = String(data: data, encoding: .isoLatin1) {
            contents = text.replacingOccurrences(of: id + "\0", with: "\0").data(using: .isoLatin1) ?? data
        }
        if plain == ".gnu.lto_.opts", var text = String(data: data, encoding: .isoLatin1),
           let r = text.range(of: "-fltrans-output-list="), let end = text[r.upperBound...].firstIndex(of: "'") {
            text.removeSubrange(r.upperBound..<end)
            contents = text.data(using: .isoLatin1) ?? data
        }
        result[plain] = contents
    }
    return result
}

/// The contents of every section of an ELF object, by name (read through `readelf -SW`).
func sectionContents(_ path: String) throws -> [String: Data] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var result: [String: Data] = [:]
    let lines = try Shell.check(["readelf", "-SW", path], cwd: "/").stdout.split(separator: "\n")
    for line in lines {
        guard line.contains("["), let open = line.firstIndex(of: "]") else { continue }
        let f = line[line.index(after: open)...].split(separator: " ")
        guard f.count >= 5, let off = Int(f[3], radix: 16), let size = Int(f[4], radix: 16) else { continue }
        result[String(f[0])] = f[1] == "NOBITS" ? Data() : data.subdata(in: off..<min(off + size, data.count))
    }
    return result
}

/// The lines of `nm -a` of an object.
func symbolLines(_ object: String) throws -> [String] {
    try Shell.check(["nm", "-a", object], cwd: "/").stdout.split(separator: "\n").map(String.init)
}

/// Names of the sections whose contents differ between two objects.
func differingSections(_ a: String, _ b: String) throws -> [String] {
    let x = try sectionContents(a), y = try sectionContents(b)
    return Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
}
