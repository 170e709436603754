// LTOGCC: the bit-pack and the references of one tree record, structure by structure
// in the order tree-streamer-out.cc writes them (streamer_write_tree_bitfields,
// streamer_write_tree_body), including the option nodes whose layout comes from
// the generated cl_optimization_stream_out / cl_target_option_stream_out.

/// The streamed layout of GCC 12.2's option nodes for x86_64 as Debian builds it, derived
/// by running optc-save-gen.awk over the option records (common.opt, params.opt, the
/// language and i386/GNU-Linux .opt files) and checked field by field against the
/// installed plugin header options.h (495 fields of cl_optimization, the same set).
enum OptionNodeLayout {
    /// cl_optimization: 495 var-len fields in this order, strings at these positions
    /// (x_str_align_functions, _jumps, _labels, _loops, x_flag_patchable_function_entry)...
    static let optimizationFields = 495
    static let optimizationStrings: Set<Int> = [249, 251, 253, 255, 363]
    /// ... then explicit_mask[8], 64 bits each.
    static let optimizationMaskWords = 8
    /// cl_target_option: 9 strings (x_ix86_arch_string ... stack_protector_guard_symbol_str),
    /// then 48 values of 64 bits (47 saved variables and explicit masks, explicit_mask[1]).
    static let targetStrings = 9
    static let targetWords = 48
}

extension StreamReader {
    /// streamer_read_tree_bitfields.
    mutating func treeBitfields(_ header: TreeHeader) throws(StreamReadError) -> TreeFlags {
        let code = header.code
        let structures = TreeCode.structures[code]
        var found = TreeFlags()
        try bitpackStart()
        try baseFields(code)
        if structures.contains(.intCst) { for _ in 0..<header.intUnits { try varLenInt() } }
        if structures.contains(.realCst) { try realFields() }
        if structures.contains(.fixedCst) {
            try field(8)
            try varLenInt()
            try varLenInt()
        }
        if structures.contains(.declMinimal) { try location(.tree(code: code), block: false) }
        if structures.contains(.declCommon) { try declCommonFields(code, &found) }
        if structures.contains(.declWRTL) { try field(1) }
        if structures.contains(.declWithVis) { try declWithVisFields(code) }
        if structures.contains(.functionDecl) { try functionDeclFields() }
        if structures.contains(.typeCommon) { try typeCommonFields(code) }
        if structures.contains(.exp) { try expressionFields(code) }
        if structures.contains(.block) { try location(.tree(code: code), block: false) }
        if structures.contains(.translationUnitDecl) { try bitpackString() }
        if structures.contains(.optimization) { try optimizationOptions() }
        if structures.contains(.constructor) {
            try enumField(2, "clobber kind")
            let elements = try varLenUnsigned()
            guard elements <= UInt64(input.end - input.position) else { throw StreamReadError("CONSTRUCTOR of \(elements) elements") }
            found.constructorElements = Int(elements)
        }
        if structures.contains(.targetOption) { try targetOptions() }
        try bitpackEnd()
        return found
    }

    /// pack_ts_base_value_fields.
    private mutating func baseFields(_ code: Int) throws(StreamReadError) {
        let treeClass = TreeCode.classes[code]
        let isType = treeClass == .type
        if isType { try zero(4, "a type's expression flags") } else { try flags(4) }
        try flags(2)
        if treeClass == .declaration { try flags(2) } else if isType { try flags(1) } else { try zero(1, "unsigned flag of a non-type") }
        try zero(1, "TREE_ASM_WRITTEN")
        try flags(3)
        if code == TreeCode.treeBinfo { try zero(1, "TREE_PRIVATE of a BINFO") } else { try flags(1) }
        try flags(2)
        if isType {
            try field(1)
            try field(8)
        } else if code == TreeCode.bitFieldRef || code == TreeCode.memRef || code == TreeCode.callExpr {
            try field(1)
            try zero(8, "padding after a reference's flag")
        } else {
            try zero(9, "padding of the base flags")
        }
    }

    /// pack_ts_real_cst_value_fields (EXP_BITS 26, SIGSZ 3 longs of 64 bits).
    private mutating func realFields() throws(StreamReadError) {
        try field(2)
        try flags(4)
        try field(26)
        for _ in 0..<3 { try field(64) }
    }

    /// pack_ts_decl_common_value_fields.
    private mutating func declCommonFields(_ code: Int, _ found: inout TreeFlags) throws(StreamReadError) {
        try field(8)
        try flags(9)
        try varLenUnsigned()
        switch code {
        case TreeCode.labelDecl: try varLenUnsigned()
        case TreeCode.fieldDecl:
            try flags(4)
            try field(8)
        case TreeCode.varDecl:
            found.hasDebugExpr = try field(1) == 1
            try field(1)
        case TreeCode.parmDecl: try field(1)
        default: break
        }
        if code == TreeCode.resultDecl || code == TreeCode.parmDecl || code == TreeCode.varDecl {
            try field(1)
            if code != TreeCode.resultDecl { found.hasValueExpr = try field(1) == 1 }
        }
    }

    /// pack_ts_decl_with_vis_value_fields.
    private mutating func declWithVisFields(_ code: Int) throws(StreamReadError) {
        try flags(5)
        try field(2)
        try flags(1)
        if code == TreeCode.varDecl { try flags(2) }
        if code == TreeCode.functionDecl { try flags(3) }
    }

    /// pack_ts_function_decl_value_fields (BUILT_IN_LAST is 4).
    private mutating func functionDeclFields() throws(StreamReadError) {
        let builtInClass = try enumField(4, "built-in class")
        try flags(7)
        try field(2)
        try flags(10)
        if builtInClass != 0 { try field(32) }
    }

    /// pack_ts_type_common_value_fields.
    private mutating func typeCommonFields(_ code: Int) throws(StreamReadError) {
        try field(8)
        try flags(5)
        let recordOrUnion = code == TreeCode.recordType || code == TreeCode.unionType || code == TreeCode.qualUnionType
        if recordOrUnion { try flags(3) } else if code == TreeCode.arrayType { try flags(1) }
        if code == TreeCode.arrayType || code == TreeCode.integerType { try field(1) }
        if recordOrUnion || code == TreeCode.arrayType { try field(1) }
        try field(1)
        try varLenUnsigned()
        try varLenUnsigned()
    }

    /// The TS_EXP part: location, dependence clique, internal function (IFN_LAST is 196).
    private mutating func expressionFields(_ code: Int) throws(StreamReadError) {
        try location(.tree(code: code), block: false)
        if code == TreeCode.memRef || code == TreeCode.targetMemRef {
            if try field(16) != 0 { try field(16) }
        } else if code == TreeCode.callExpr {
            noteInternalFunction(try enumField(InternalFunction.count, "internal function"))
        }
    }

    /// cl_optimization_stream_in; the first field is `optimize` (optc-save-gen.awk puts
    /// x_optimize, x_optimize_size, x_optimize_debug and x_optimize_fast first).
    private mutating func optimizationOptions() throws(StreamReadError) {
        let level = try varLenInt()
        lowestOptimizeLevel = min(lowestOptimizeLevel ?? level, level)
        for i in 1..<OptionNodeLayout.optimizationFields {
            if OptionNodeLayout.optimizationStrings.contains(i) { try bitpackString() } else { try varLenRaw() }
        }
        for _ in 0..<OptionNodeLayout.optimizationMaskWords { try field(64) }
    }

    /// cl_target_option_stream_in.
    private mutating func targetOptions() throws(StreamReadError) {
        for _ in 0..<OptionNodeLayout.targetStrings { try bitpackString() }
        for _ in 0..<OptionNodeLayout.targetWords { try field(64) }
    }

    /// streamer_read_tree_body.
    mutating func treeReferences(_ header: TreeHeader, flags: TreeFlags, index: Int) throws(StreamReadError) {
        let code = header.code
        let s = TreeCode.structures[code]
        if s.contains(.typed), code != TreeCode.identifierNode { _ = try treeReference() }
        if s.contains(.vector) { try references(header.length) }
        if s.contains(.polyIntCst) { try references(1) }
        if s.contains(.complex) { try references(2) }
        if s.contains(.declMinimal) { try references(2) }
        if s.contains(.declCommon) { try declCommonReferences(code, flags) }
        if s.contains(.declWithVis) {
            if case .node(let name) = try treeReference() { nodeAssemblerName[index] = Int32(name) }
        }
        if s.contains(.fieldDecl) { try references(4) }
        if s.contains(.functionDecl) { try references(3) }
        if s.contains(.typeCommon) { try references(6) }
        if s.contains(.typeNonCommon) { try typeNonCommonReferences(code) }
        if s.contains(.list) { try references(3) }
        if s.contains(.vec) { try references(header.length) }
        if s.contains(.exp) {
            try references(code == TreeCode.callExpr ? header.length + 3 : TreeCode.operands[code])
            _ = try treeReference()
        }
        if s.contains(.block) {
            _ = try referenceChain()
            try references(2)
        }
        if s.contains(.binfo) {
            guard try referenceChain() == header.length else { throw StreamReadError("BINFO with another number of bases than its header says") }
            try references(2)
        }
        if s.contains(.constructor) { try references(2 * flags.constructorElements) }
    }

    private mutating func declCommonReferences(_ code: Int, _ flags: TreeFlags) throws(StreamReadError) {
        try references(4)
        if (code == TreeCode.varDecl || code == TreeCode.parmDecl) && flags.hasValueExpr { _ = try treeReference() }
        if code == TreeCode.varDecl && flags.hasDebugExpr { _ = try treeReference() }
    }

    private mutating func typeNonCommonReferences(_ code: Int) throws(StreamReadError) {
        switch code {
        case TreeCode.arrayType: _ = try treeReference()
        case TreeCode.recordType, TreeCode.unionType, TreeCode.qualUnionType: _ = try referenceChain()
        case TreeCode.functionType, TreeCode.methodType: _ = try treeReference()
        default: break
        }
        if code != TreeCode.pointerType && code != TreeCode.referenceType { _ = try treeReference() }
        _ = try treeReference()
    }
}

/// GCC 12.2's internal functions (internal-fn.def, in order; IFN_LAST is 196) that matter to
/// keys: those of the sanitizers, whose expansion in LTRANS reads statement locations.
enum InternalFunction {
    static let count = 196
    /// UBSAN_NULL ... UBSAN_OBJECT_SIZE, HWASAN_ALLOCA_UNPOISON ... HWASAN_SET_TAG,
    /// ASAN_CHECK ... ASAN_POISON_USE, TSAN_FUNC_EXIT.
    static let sanitizers: Set<Int> = Set(Array(142...149) + Array(152...160) + [164])
}

extension StreamReader {
    /// Counts a call of a sanitizer's internal function (code 0 means none for CALL_EXPR).
    mutating func noteInternalFunction(_ code: Int) {
        if InternalFunction.sanitizers.contains(code) { sanitizerCalls += 1 }
    }
}
