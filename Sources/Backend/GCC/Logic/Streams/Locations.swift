// LTOGCC: source locations in GCC 12's LTO streams, and the policy that says which
// of them a canonical digest keeps. A location is streamed inside a bit-pack
// (lto_output_location_1 / lto_location_cache::input_location_and_block) relative
// to the previous one of the same section: a 2-bit field (0, 1: the reserved
// UNKNOWN/BUILTINS locations; 2: same file; 3: file changed), "line changed" and
// "column changed" bits, then only what changed (for a new file: whether the
// working directory follows, that directory, the file name, the system-header bit;
// then the line and the column as var-len numbers). Statement locations also carry
// a "block changed" bit and, when set, a tree reference to the lexical BLOCK.

/// Where a location sits in a partition.
public enum LocationCategory: String, Sendable, Hashable {
    /// In a tree record: `.gnu.lto_.decls`, or a tree streamed inside a function or
    /// variable-initializer section (declarations, expressions, BLOCKs).
    case declaration
    /// In a function body: a GIMPLE statement, a PHI argument, a CFG edge, the function's
    /// start or end, an EH region.
    case statement
}

/// The kind of record a location belongs to.
public enum LocationRecord: Sendable, Hashable, CustomStringConvertible {
    /// A tree of the given base tree code (`TreeCode` numbering of tree.def).
    case tree(code: Int)
    /// A GIMPLE statement of the given gimple code (gimple.def numbering).
    case statement(code: Int)
    case phiArgument
    case edge
    case functionStart
    case functionEnd
    case mustNotThrow

    public var description: String {
        switch self {
        case .tree(let code): return code < TreeCode.names.count ? TreeCode.names[code] : "tree \(code)"
        case .statement(let code): return code < GimpleCode.names.count ? GimpleCode.names[code] : "gimple \(code)"
        case .phiArgument: return "PHI argument"
        case .edge: return "CFG edge"
        case .functionStart: return "function start"
        case .functionEnd: return "function end"
        case .mustNotThrow: return "EH must-not-throw region"
        }
    }

    /// A dense number per kind, for caching decisions.
    var slot: Int {
        switch self {
        case .tree(let code): return code
        case .statement(let code): return TreeCode.baseCount + code
        case .phiArgument: return Self.otherSlots
        case .edge: return Self.otherSlots + 1
        case .functionStart: return Self.otherSlots + 2
        case .functionEnd: return Self.otherSlots + 3
        case .mustNotThrow: return Self.otherSlots + 4
        }
    }

    static let otherSlots = TreeCode.baseCount + GimpleCode.names.count
    static let slotCount = otherSlots + 5

    var category: LocationCategory {
        if case .tree = self { return .declaration }
        return .statement
    }
}

/// The section of a partition a stream belongs to.
public enum StreamSection: Sendable, Hashable, CustomStringConvertible {
    /// `.gnu.lto_.decls`.
    case declarations
    /// `.gnu.lto_<symbol>.<order>` holding a function body.
    case functionBody(symbol: String)
    /// `.gnu.lto_<symbol>.<order>` holding a variable's initializer.
    case variableInitializer(symbol: String)

    public var description: String {
        switch self {
        case .declarations: return ".gnu.lto_.decls"
        case .functionBody(let s): return "body of \(s)"
        case .variableInitializer(let s): return "initializer of \(s)"
        }
    }

    /// The symbol of a body or initializer section.
    public var symbol: String? {
        switch self {
        case .declarations: return nil
        case .functionBody(let s), .variableInitializer(let s): return s
        }
    }
}

/// Everything a policy may look at to decide what happens to one location.
public struct LocationSite: Sendable {
    public let section: StreamSection
    public let record: LocationRecord
    public var category: LocationCategory { record.category }
}

/// What a canonical digest keeps of one location.
public enum LocationTreatment: Sendable, Hashable {
    /// File (with the working directory it is relative to), system-header bit, line and column.
    case keep
    /// File and system-header bit; line and column are replaced by a fixed token.
    case keepFile
    /// The whole location is replaced by a fixed token (the reserved locations UNKNOWN and
    /// BUILTINS are always kept: they say that there is no source position).
    case abstract
}

/// Decides, per location, what the canonical digest keeps. The name is hashed into every
/// digest, so digests made under different policies never compare equal; a custom policy
/// must have a name of its own. A decision must depend only on the site: the reader asks
/// once per section and kind of record.
public struct LocationPolicy: Sendable {
    public let name: String
    let decide: @Sendable (LocationSite) -> LocationTreatment

    public init(name: String, decide: @escaping @Sendable (LocationSite) -> LocationTreatment) {
        self.name = name
        self.decide = decide
    }

    /// Every location kept: the digest changes exactly when the streams do.
    public static let exact = LocationPolicy(name: "exact") { _ in .keep }
    /// Every location abstracted, file names included.
    public static let abstractAll = LocationPolicy(name: "abstract-all") { _ in .abstract }
    /// Locations in tree records abstracted; statement locations of function bodies kept.
    public static let abstractDeclarations = LocationPolicy(name: "abstract-declarations") {
        $0.category == .declaration ? .abstract : .keep
    }
    /// Lines and columns abstracted everywhere, file names kept.
    public static let keepFiles = LocationPolicy(name: "keep-files") { _ in .keepFile }

    /// Statement locations kept in the bodies of `symbols`, every other location abstracted.
    public static func keepingStatements(of symbols: Set<String>, name: String) -> LocationPolicy {
        LocationPolicy(name: name) { site in
            guard site.category == .statement, let symbol = site.section.symbol, symbols.contains(symbol) else { return .abstract }
            return .keep
        }
    }
}

/// How many locations of one source file a section abstracted (fully or to the file).
public struct AbstractedLocations: Sendable, Hashable {
    public var declarations = 0
    public var statements = 0
    public init(declarations: Int = 0, statements: Int = 0) {
        self.declarations = declarations
        self.statements = statements
    }
}

/// The location state of one section (output_block's current_* fields, as the reader
/// mirrors them): file, line, column, system-header bit, working directory.
struct LocationState {
    /// String-table offsets of the current file and working directory (-1: none yet).
    var file = -1
    var pwd = -1
    var line: UInt64 = 0
    var column: UInt64 = 0
    var sysp = false
    var seenKnown = false
    /// A working directory was streamed and the file name after it is not read yet.
    var pwdPending = false
}

/// gimple.def's codes, in order.
enum GimpleCode {
    static let names = [
        "GIMPLE_ERROR_MARK", "GIMPLE_COND", "GIMPLE_DEBUG", "GIMPLE_GOTO", "GIMPLE_LABEL", "GIMPLE_SWITCH",
        "GIMPLE_ASSIGN", "GIMPLE_ASM", "GIMPLE_CALL", "GIMPLE_TRANSACTION", "GIMPLE_RETURN", "GIMPLE_BIND",
        "GIMPLE_CATCH", "GIMPLE_EH_FILTER", "GIMPLE_EH_MUST_NOT_THROW", "GIMPLE_EH_ELSE", "GIMPLE_RESX",
        "GIMPLE_EH_DISPATCH", "GIMPLE_PHI", "GIMPLE_TRY", "GIMPLE_NOP", "GIMPLE_OMP_ATOMIC_LOAD",
        "GIMPLE_OMP_ATOMIC_STORE", "GIMPLE_OMP_CONTINUE", "GIMPLE_OMP_CRITICAL", "GIMPLE_OMP_FOR",
        "GIMPLE_OMP_MASTER", "GIMPLE_OMP_MASKED", "GIMPLE_OMP_TASKGROUP", "GIMPLE_OMP_PARALLEL", "GIMPLE_OMP_TASK",
        "GIMPLE_OMP_RETURN", "GIMPLE_OMP_SCAN", "GIMPLE_OMP_SCOPE", "GIMPLE_OMP_SECTION", "GIMPLE_OMP_SECTIONS",
        "GIMPLE_OMP_SECTIONS_SWITCH", "GIMPLE_OMP_SINGLE", "GIMPLE_OMP_TARGET", "GIMPLE_OMP_TEAMS",
        "GIMPLE_OMP_ORDERED", "GIMPLE_PREDICT", "GIMPLE_WITH_CLEANUP_EXPR",
    ]
    static let cond = 1, debug = 2, goto = 3, label = 4, switchCode = 5, assign = 6, asm = 7, call = 8
    static let transaction = 9, returnCode = 10, ehMustNotThrow = 14, resx = 16, ehDispatch = 17, phi = 18
    static let nop = 20, predict = 41
    /// GF_CALL_INTERNAL in a call's subcode.
    static let callInternalFlag: UInt64 = 1 << 6
}
