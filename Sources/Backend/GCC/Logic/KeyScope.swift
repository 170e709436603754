// LTOGCC: how much of an LTRANS job's surroundings its key may leave out, decided from the
// LTRANS command line against a whitelist of options proven not to let the left-out things
// reach the object (docs/LTRANS-FACTS.md, sections 5 and 6). Anything not on the list keeps
// the key exact.

/// What an LTRANS key leaves out besides the random section suffixes.
public enum KeyScope: String, Equatable, Sendable {
    /// Only `-o`, `-dumpbase` and the input name are left out (their values name files only).
    case exact
    /// Also the `-dumpdir` value: every option is whitelisted, debug information may be on.
    case withoutNames
    /// Also the working directory and, where the partition allows it, source locations:
    /// every option is whitelisted and debug information is off (`-g0` last).
    case withoutLocations
}

/// The options of an LTRANS command line under which names, the working directory and source
/// locations were shown not to reach the object (GCC 12.2; docs/LTRANS-FACTS.md).
public enum LTRANSWhitelist {
    /// The scope of `args`, the LTRANS command's arguments (without argv[0]). The last `-O`
    /// level must be on the list: without one, LTRANS optimizes at `-O0`, where code depends
    /// on which statements share a location.
    public static func scope(of args: [String]) -> KeyScope {
        guard let tokens = significantTokens(args), tokens.allSatisfy(isWhitelisted),
              tokens.contains(where: { $0.hasPrefix("-O") })
        else { return .exact }
        let debug = tokens.filter { $0.hasPrefix("-g") }
        return debug.isEmpty || debug.last == "-g0" ? .withoutLocations : .withoutNames
    }

    /// The arguments without the values of `-o`, `-dumpdir`, `-dumpbase` and the input (the
    /// last argument), and without `-B` prefixes (they only choose the programs the driver
    /// runs, which the compiler's identity keys by content); nil when the shape is not an
    /// LTRANS command's.
    static func significantTokens(_ args: [String]) -> [String]? {
        guard args.count >= 2 else { return nil }
        var out: [String] = []
        var i = 0
        while i < args.count - 1 {
            if ["-o", "-dumpdir", "-dumpbase", "-B"].contains(args[i]) {
                guard i + 1 < args.count - 1 else { return nil }
                i += 2
                continue
            }
            if !args[i].hasPrefix("-B") { out.append(args[i]) }
            i += 1
        }
        return out
    }

    static func isWhitelisted(_ token: String) -> Bool {
        if exact.contains(token) || prefixes.contains(where: token.hasPrefix) { return true }
        if token.hasPrefix("-g") { return levels.contains(token) }
        if token.hasPrefix("-W") { return !["-Wa,", "-Wl,", "-Wp,"].contains(where: token.hasPrefix) }
        return optimizerFlags.contains(token)
    }

    /// `-g` levels; a plain level turns debug information on, `-g0` off.
    static let levels: Set<String> = ["-g", "-g0", "-g1", "-g2", "-g3"]

    static let exact: Set<String> = [
        "-xlto", "-c", "-fltrans", "-fno-openmp", "-fno-openacc",
        "-fPIC", "-fpic", "-fPIE", "-fpie", "-fno-pie", "-pie", "-no-pie", "-shared-libgcc", "-static-libgcc",
        "-O", "-O1", "-O2", "-O3", "-Os", "-Og", "-Ofast", "-w",
        "-fno-omit-frame-pointer", "-ffunction-sections", "-fdata-sections", "-fstack-protector-strong", "-fno-inline",
        "-fno-strict-aliasing", "-fwrapv", "-fno-common", "-fno-semantic-interposition", "-pg", "-finstrument-functions",
    ]

    static let prefixes = ["-march=", "-mtune=", "-fcf-protection=", "-flto-partition=", "-fvisibility="]

    /// The `-f` flags of `gcc -Q --help=optimizers -O2`, each in the polarity that flips its
    /// -O2 default, audited with every line and column moved (docs/LTRANS-FACTS.md, section 5);
    /// without the six that write side outputs or read profiles.
    static let optimizerFlags: Set<String> = Set("""
        -fno-aggressive-loop-optimizations -fno-align-functions -fno-align-jumps -fno-align-labels
        -fno-align-loops -fno-allocation-dce -fallow-store-data-races -fassociative-math
        -fno-asynchronous-unwind-tables -fno-auto-inc-dec -fno-bit-tests -fno-branch-count-reg
        -fno-caller-saves -fno-code-hoisting -fno-combine-stack-adjustments
        -fno-compare-elim -fconserve-stack -fno-cprop-registers -fno-crossjumping -fno-cse-follow-jumps
        -fcx-fortran-rules -fcx-limited-range -fno-dce -fno-defer-pop -fdelayed-branch
        -fdelete-dead-exceptions -fno-devirtualize -fno-devirtualize-speculatively -fno-dse
        -fno-early-inlining -fno-expensive-optimizations -ffinite-loops -ffinite-math-only -ffloat-store
        -fno-forward-propagate -fno-fp-int-builtin-inexact -fno-function-cse -fno-gcse -fgcse-after-reload
        -fgcse-las -fno-gcse-lm -fgcse-sm -fgraphite -fgraphite-identity -fno-guess-branch-probability
        -fharden-compares -fharden-conditional-branches -fno-hoist-adjacent-loads -fno-if-conversion
        -fno-if-conversion2 -fno-indirect-inlining -fno-inline-atomics -fno-inline-functions
        -fno-inline-functions-called-once -fno-inline-small-functions -fno-ipa-bit-cp -fno-ipa-cp
        -fipa-cp-clone -fno-ipa-icf -fno-ipa-icf-functions -fno-ipa-icf-variables -fno-ipa-modref
        -fno-ipa-profile -fipa-pta -fno-ipa-pure-const -fno-ipa-ra -fno-ipa-reference
        -fno-ipa-reference-addressable -fno-ipa-sra -fno-ipa-stack-alignment -fno-ipa-strict-aliasing
        -fno-ipa-vrp -fno-ira-hoist-pressure -fira-loop-pressure -fno-ira-share-save-slots
        -fno-ira-share-spill-slots -fisolate-erroneous-paths-attribute
        -fno-isolate-erroneous-paths-dereference -fno-ivopts -fno-jump-tables -fkeep-gc-roots-live
        -fno-lifetime-dse -flimit-function-alignment -flive-range-shrinkage -floop-interchange
        -floop-nest-optimize -floop-parallelize-all -floop-unroll-and-jam -fno-lra-remat -fno-math-errno
        -fmodulo-sched -fmodulo-sched-allow-regmoves -fno-move-loop-invariants -fno-move-loop-stores
        -fnon-call-exceptions -fno-optimize-sibling-calls
        -fno-optimize-strlen -fpack-struct -fno-partial-inlining -fpeel-loops -fno-peephole -fno-peephole2
        -fno-plt -fpredictive-commoning -fno-printf-return-value
        -freciprocal-math -fno-ree -fno-reg-struct-return -frename-registers
        -fno-reorder-blocks -fno-reorder-blocks-and-partition -fno-reorder-functions
        -fno-rerun-cse-after-loop -freschedule-modulo-scheduled-loops -frounding-math
        -fno-sched-critical-path-heuristic -fno-sched-dep-count-heuristic
        -fno-sched-group-heuristic -fno-sched-interblock -fno-sched-last-insn-heuristic -fsched-pressure
        -fno-sched-rank-heuristic -fno-sched-spec -fno-sched-spec-insn-heuristic -fsched-spec-load
        -fsched-spec-load-dangerous -fsched-stalled-insns -fno-sched-stalled-insns-dep
        -fsched2-use-superblocks -fno-schedule-fusion -fschedule-insns -fno-schedule-insns2
        -fsection-anchors -fsel-sched-pipelining -fsel-sched-pipelining-outer-loops
        -fsel-sched-reschedule-pipelined -fselective-scheduling -fselective-scheduling2
        -fno-short-enums -fshort-wchar -fno-shrink-wrap
        -fno-shrink-wrap-separate -fsignaling-nans -fno-signed-zeros -fsingle-precision-constant
        -fno-split-ivs-in-unroller -fsplit-loops -fsplit-paths -fno-split-wide-types
        -fsplit-wide-types-early -fno-ssa-backprop -fno-ssa-phiopt -fstack-clash-protection
        -fstack-protector -fstack-protector-all -fstack-protector-explicit
        -fno-stdarg-opt -fno-store-merging -fno-thread-jumps -fno-toplevel-reorder
        -ftracer -fno-trapping-math -ftrapv -fno-tree-bit-ccp -fno-tree-builtin-call-dce -fno-tree-ccp
        -fno-tree-ch -fno-tree-coalesce-vars -fno-tree-copy-prop -ftree-cselim -fno-tree-dce
        -fno-tree-dominator-opts -fno-tree-dse -fno-tree-forwprop -fno-tree-fre
        -fno-tree-loop-distribute-patterns -ftree-loop-distribution -fno-tree-loop-im
        -fno-tree-loop-ivcanon -fno-tree-loop-optimize -fno-tree-loop-vectorize -ftree-lrs
        -ftree-partial-pre -fno-tree-phiprop -fno-tree-pre -fno-tree-pta -fno-tree-reassoc
        -fno-tree-scev-cprop -fno-tree-sink -fno-tree-slp-vectorize -fno-tree-slsr -fno-tree-sra
        -fno-tree-switch-conversion -fno-tree-tail-merge -fno-tree-ter -ftree-vectorize -fno-tree-vrp
        -funconstrained-commons -funroll-all-loops -funroll-completely-grow-size -funroll-loops
        -funsafe-math-optimizations -funswitch-loops -funwind-tables -fvar-tracking
        -fvar-tracking-assignments -fvar-tracking-assignments-toggle -fvar-tracking-uninit
        -fvariable-expansion-in-unroller -fversion-loops-for-strides -fweb -fwrapv-pointer
        """.split(whereSeparator: \.isWhitespace).map(String.init))
}
