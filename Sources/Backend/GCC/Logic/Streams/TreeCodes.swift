// LTOGCC: GCC 12's base tree codes (gcc/tree.def, in order) and which node
// structures each contains (tree.cc: tree_node_structure_for_code and
// initialize_tree_contains_struct). The LTO streamer writes a tree as the tag
// 7 + code, and what follows the tag depends only on these structures and on
// flags read earlier in the same record. Front-end codes (after the 239 base
// codes) are freed before streaming, so a tag naming one is an error.

/// Node structures (tree-core.h's tree_node_structure_enum, only those the streamer looks at).
struct TreeStructures: OptionSet {
    let rawValue: UInt64
    static let typed = TreeStructures(rawValue: 1 << 0)
    static let common = TreeStructures(rawValue: 1 << 1)
    static let intCst = TreeStructures(rawValue: 1 << 2)
    static let polyIntCst = TreeStructures(rawValue: 1 << 3)
    static let realCst = TreeStructures(rawValue: 1 << 4)
    static let fixedCst = TreeStructures(rawValue: 1 << 5)
    static let vector = TreeStructures(rawValue: 1 << 6)
    static let string = TreeStructures(rawValue: 1 << 7)
    static let complex = TreeStructures(rawValue: 1 << 8)
    static let identifier = TreeStructures(rawValue: 1 << 9)
    static let declMinimal = TreeStructures(rawValue: 1 << 10)
    static let declCommon = TreeStructures(rawValue: 1 << 11)
    static let declWRTL = TreeStructures(rawValue: 1 << 12)
    static let declNonCommon = TreeStructures(rawValue: 1 << 13)
    static let declWithVis = TreeStructures(rawValue: 1 << 14)
    static let fieldDecl = TreeStructures(rawValue: 1 << 15)
    static let functionDecl = TreeStructures(rawValue: 1 << 16)
    static let translationUnitDecl = TreeStructures(rawValue: 1 << 17)
    static let typeCommon = TreeStructures(rawValue: 1 << 18)
    static let typeNonCommon = TreeStructures(rawValue: 1 << 19)
    static let list = TreeStructures(rawValue: 1 << 20)
    static let vec = TreeStructures(rawValue: 1 << 21)
    static let exp = TreeStructures(rawValue: 1 << 22)
    static let block = TreeStructures(rawValue: 1 << 23)
    static let binfo = TreeStructures(rawValue: 1 << 24)
    static let constructor = TreeStructures(rawValue: 1 << 25)
    static let optimization = TreeStructures(rawValue: 1 << 26)
    static let targetOption = TreeStructures(rawValue: 1 << 27)
    static let ssaName = TreeStructures(rawValue: 1 << 28)
    static let statementList = TreeStructures(rawValue: 1 << 29)
    static let ompClause = TreeStructures(rawValue: 1 << 30)

    // The MARK_TS_* chains of tree.h.
    static let markTyped: TreeStructures = [.typed]
    static let markCommon: TreeStructures = [.typed, .common]
    static let markTypeCommon: TreeStructures = markCommon.union(.typeCommon)
    static let markDeclMinimal: TreeStructures = markCommon.union(.declMinimal)
    static let markDeclCommon: TreeStructures = markDeclMinimal.union(.declCommon)
    static let markDeclWRTL: TreeStructures = markDeclCommon.union(.declWRTL)
    static let markDeclWithVis: TreeStructures = markDeclWRTL.union(.declWithVis)
    static let markDeclNonCommon: TreeStructures = markDeclWithVis.union(.declNonCommon)
}

/// tree_code_class, as one character per class in the table below.
enum TreeClass: Character {
    case exceptional = "x", constant = "c", type = "t", declaration = "d", reference = "r"
    case comparison = "<", unary = "1", binary = "2", statement = "s", vlExp = "e", expression = "E"
}

/// The base tree codes of GCC 12.2 and the few the grammar names.
enum TreeCode {
    static let errorMark = 0, identifierNode = 1, treeList = 2, treeVec = 3, block = 4
    static let offsetType = 5, enumeralType = 6, booleanType = 7, integerType = 8, realType = 9
    static let pointerType = 10, referenceType = 11, fixedPointType = 13, complexType = 14, arrayType = 16, recordType = 17, unionType = 18
    static let qualUnionType = 19, voidType = 20, functionType = 21, methodType = 22, langType = 23
    static let voidCst = 25, integerCst = 26, polyIntCst = 27, realCst = 28, fixedCst = 29
    static let complexCst = 30, vectorCst = 31, stringCst = 32
    static let functionDecl = 33, labelDecl = 34, fieldDecl = 35, varDecl = 36, constDecl = 37
    static let parmDecl = 38, typeDecl = 39, resultDecl = 40, debugExprDecl = 41
    static let translationUnitDecl = 46, bitFieldRef = 48, constructor = 56
    static let modifyExpr = 58, initExpr = 59, targetExpr = 60, bindExpr = 66, callExpr = 67
    static let withCleanupExpr = 68, placeholderExpr = 70, declExpr = 144, caseLabelExpr = 151
    static let ssaName = 153, statementList = 159, treeBinfo = 161, targetMemRef = 164, memRef = 165
    static let ompClause = 204, optimizationNode = 236, targetOptionNode = 237

    /// LAST_AND_UNUSED_TREE_CODE: codes at or above it belong to front ends.
    static let baseCount = 239

    /// Per code: its name, class, TREE_CODE_LENGTH (operands of expressions; for CALL_EXPR
    /// the header gives the count) and node structures; separate arrays keep lookups cheap.
    static let names: [String] = rows.map(\.0)
    static let classes: [TreeClass] = rows.map { TreeClass(rawValue: $0.1)! }
    static let operands: [Int] = rows.map(\.2)
    static let structures: [TreeStructures] = classes.enumerated().map { structures(code: $0, treeClass: $1) }

    /// tree_node_structure_for_code followed by initialize_tree_contains_struct's marks.
    private static func structures(code: Int, treeClass: TreeClass) -> TreeStructures {
        switch treeClass {
        case .declaration:
            switch code {
            case constDecl, fieldDecl: return TreeStructures.markDeclCommon.union(code == fieldDecl ? .fieldDecl : [])
            case debugExprDecl, labelDecl, parmDecl, resultDecl: return .markDeclWRTL
            case functionDecl: return TreeStructures.markDeclNonCommon.union(.functionDecl)
            case translationUnitDecl: return TreeStructures.markDeclCommon.union(.translationUnitDecl)
            case varDecl: return .markDeclWithVis
            default: return .markDeclNonCommon
            }
        case .type: return TreeStructures.markTypeCommon.union(.typeNonCommon)
        case .binary, .comparison, .expression, .reference, .statement, .unary, .vlExp: return TreeStructures.markTyped.union(.exp)
        case .constant, .exceptional: return constantOrExceptional(code)
        }
    }

    private static func constantOrExceptional(_ code: Int) -> TreeStructures {
        switch code {
        case complexCst: return TreeStructures.markTyped.union(.complex)
        case fixedCst: return TreeStructures.markTyped.union(.fixedCst)
        case integerCst: return TreeStructures.markTyped.union(.intCst)
        case polyIntCst: return TreeStructures.markTyped.union(.polyIntCst)
        case realCst: return TreeStructures.markTyped.union(.realCst)
        case stringCst: return TreeStructures.markTyped.union(.string)
        case vectorCst: return TreeStructures.markTyped.union(.vector)
        case voidCst: return .markTyped
        case block: return .block
        case constructor: return TreeStructures.markTyped.union(.constructor)
        case errorMark, placeholderExpr: return .markTyped.union(.common)
        case identifierNode: return TreeStructures.markCommon.union(.identifier)
        case ompClause: return TreeStructures.markCommon.union(.ompClause)
        case optimizationNode: return .optimization
        case ssaName: return TreeStructures.markTyped.union(.ssaName)
        case statementList: return TreeStructures.markTyped.union(.statementList)
        case targetOptionNode: return .targetOption
        case treeBinfo: return TreeStructures.markCommon.union(.binfo)
        case treeList: return TreeStructures.markCommon.union(.list)
        case treeVec: return TreeStructures.markCommon.union(.vec)
        default: return []
        }
    }

    /// Name, class (see `TreeClass`) and operand count of each code, from tree.def.
    private static let rows: [(String, Character, Int)] = [
        ("ERROR_MARK", "x", 0),
        ("IDENTIFIER_NODE", "x", 0),
        ("TREE_LIST", "x", 0),
        ("TREE_VEC", "x", 0),
        ("BLOCK", "x", 0),
        ("OFFSET_TYPE", "t", 0),
        ("ENUMERAL_TYPE", "t", 0),
        ("BOOLEAN_TYPE", "t", 0),
        ("INTEGER_TYPE", "t", 0),
        ("REAL_TYPE", "t", 0),
        ("POINTER_TYPE", "t", 0),
        ("REFERENCE_TYPE", "t", 0),
        ("NULLPTR_TYPE", "t", 0),
        ("FIXED_POINT_TYPE", "t", 0),
        ("COMPLEX_TYPE", "t", 0),
        ("VECTOR_TYPE", "t", 0),
        ("ARRAY_TYPE", "t", 0),
        ("RECORD_TYPE", "t", 0),
        ("UNION_TYPE", "t", 0),
        ("QUAL_UNION_TYPE", "t", 0),
        ("VOID_TYPE", "t", 0),
        ("FUNCTION_TYPE", "t", 0),
        ("METHOD_TYPE", "t", 0),
        ("LANG_TYPE", "t", 0),
        ("OPAQUE_TYPE", "t", 0),
        ("VOID_CST", "c", 0),
        ("INTEGER_CST", "c", 0),
        ("POLY_INT_CST", "c", 0),
        ("REAL_CST", "c", 0),
        ("FIXED_CST", "c", 0),
        ("COMPLEX_CST", "c", 0),
        ("VECTOR_CST", "c", 0),
        ("STRING_CST", "c", 0),
        ("FUNCTION_DECL", "d", 0),
        ("LABEL_DECL", "d", 0),
        ("FIELD_DECL", "d", 0),
        ("VAR_DECL", "d", 0),
        ("CONST_DECL", "d", 0),
        ("PARM_DECL", "d", 0),
        ("TYPE_DECL", "d", 0),
        ("RESULT_DECL", "d", 0),
        ("DEBUG_EXPR_DECL", "d", 0),
        ("DEBUG_BEGIN_STMT", "s", 0),
        ("NAMESPACE_DECL", "d", 0),
        ("IMPORTED_DECL", "d", 0),
        ("NAMELIST_DECL", "d", 0),
        ("TRANSLATION_UNIT_DECL", "d", 0),
        ("COMPONENT_REF", "r", 3),
        ("BIT_FIELD_REF", "r", 3),
        ("ARRAY_REF", "r", 4),
        ("ARRAY_RANGE_REF", "r", 4),
        ("REALPART_EXPR", "r", 1),
        ("IMAGPART_EXPR", "r", 1),
        ("VIEW_CONVERT_EXPR", "r", 1),
        ("INDIRECT_REF", "r", 1),
        ("OBJ_TYPE_REF", "E", 3),
        ("CONSTRUCTOR", "x", 0),
        ("COMPOUND_EXPR", "E", 2),
        ("MODIFY_EXPR", "E", 2),
        ("INIT_EXPR", "E", 2),
        ("TARGET_EXPR", "E", 4),
        ("COND_EXPR", "E", 3),
        ("VEC_DUPLICATE_EXPR", "1", 1),
        ("VEC_SERIES_EXPR", "2", 2),
        ("VEC_COND_EXPR", "E", 3),
        ("VEC_PERM_EXPR", "E", 3),
        ("BIND_EXPR", "E", 3),
        ("CALL_EXPR", "e", 3),
        ("WITH_CLEANUP_EXPR", "E", 1),
        ("CLEANUP_POINT_EXPR", "E", 1),
        ("PLACEHOLDER_EXPR", "x", 0),
        ("PLUS_EXPR", "2", 2),
        ("MINUS_EXPR", "2", 2),
        ("MULT_EXPR", "2", 2),
        ("POINTER_PLUS_EXPR", "2", 2),
        ("POINTER_DIFF_EXPR", "2", 2),
        ("MULT_HIGHPART_EXPR", "2", 2),
        ("TRUNC_DIV_EXPR", "2", 2),
        ("CEIL_DIV_EXPR", "2", 2),
        ("FLOOR_DIV_EXPR", "2", 2),
        ("ROUND_DIV_EXPR", "2", 2),
        ("TRUNC_MOD_EXPR", "2", 2),
        ("CEIL_MOD_EXPR", "2", 2),
        ("FLOOR_MOD_EXPR", "2", 2),
        ("ROUND_MOD_EXPR", "2", 2),
        ("RDIV_EXPR", "2", 2),
        ("EXACT_DIV_EXPR", "2", 2),
        ("FIX_TRUNC_EXPR", "1", 1),
        ("FLOAT_EXPR", "1", 1),
        ("NEGATE_EXPR", "1", 1),
        ("MIN_EXPR", "2", 2),
        ("MAX_EXPR", "2", 2),
        ("ABS_EXPR", "1", 1),
        ("ABSU_EXPR", "1", 1),
        ("LSHIFT_EXPR", "2", 2),
        ("RSHIFT_EXPR", "2", 2),
        ("LROTATE_EXPR", "2", 2),
        ("RROTATE_EXPR", "2", 2),
        ("BIT_IOR_EXPR", "2", 2),
        ("BIT_XOR_EXPR", "2", 2),
        ("BIT_AND_EXPR", "2", 2),
        ("BIT_NOT_EXPR", "1", 1),
        ("TRUTH_ANDIF_EXPR", "E", 2),
        ("TRUTH_ORIF_EXPR", "E", 2),
        ("TRUTH_AND_EXPR", "E", 2),
        ("TRUTH_OR_EXPR", "E", 2),
        ("TRUTH_XOR_EXPR", "E", 2),
        ("TRUTH_NOT_EXPR", "E", 1),
        ("LT_EXPR", "<", 2),
        ("LE_EXPR", "<", 2),
        ("GT_EXPR", "<", 2),
        ("GE_EXPR", "<", 2),
        ("LTGT_EXPR", "<", 2),
        ("EQ_EXPR", "<", 2),
        ("NE_EXPR", "<", 2),
        ("UNORDERED_EXPR", "<", 2),
        ("ORDERED_EXPR", "<", 2),
        ("UNLT_EXPR", "<", 2),
        ("UNLE_EXPR", "<", 2),
        ("UNGT_EXPR", "<", 2),
        ("UNGE_EXPR", "<", 2),
        ("UNEQ_EXPR", "<", 2),
        ("RANGE_EXPR", "2", 2),
        ("PAREN_EXPR", "1", 1),
        ("CONVERT_EXPR", "1", 1),
        ("ADDR_SPACE_CONVERT_EXPR", "1", 1),
        ("FIXED_CONVERT_EXPR", "1", 1),
        ("NOP_EXPR", "1", 1),
        ("NON_LVALUE_EXPR", "1", 1),
        ("COMPOUND_LITERAL_EXPR", "E", 1),
        ("SAVE_EXPR", "E", 1),
        ("ADDR_EXPR", "E", 1),
        ("FDESC_EXPR", "E", 2),
        ("BIT_INSERT_EXPR", "E", 3),
        ("COMPLEX_EXPR", "2", 2),
        ("CONJ_EXPR", "1", 1),
        ("PREDECREMENT_EXPR", "E", 2),
        ("PREINCREMENT_EXPR", "E", 2),
        ("POSTDECREMENT_EXPR", "E", 2),
        ("POSTINCREMENT_EXPR", "E", 2),
        ("VA_ARG_EXPR", "E", 1),
        ("TRY_CATCH_EXPR", "s", 2),
        ("TRY_FINALLY_EXPR", "s", 2),
        ("EH_ELSE_EXPR", "s", 2),
        ("DECL_EXPR", "s", 1),
        ("LABEL_EXPR", "s", 1),
        ("GOTO_EXPR", "s", 1),
        ("RETURN_EXPR", "s", 1),
        ("EXIT_EXPR", "s", 1),
        ("LOOP_EXPR", "s", 1),
        ("SWITCH_EXPR", "s", 2),
        ("CASE_LABEL_EXPR", "s", 4),
        ("ASM_EXPR", "s", 5),
        ("SSA_NAME", "x", 0),
        ("CATCH_EXPR", "s", 2),
        ("EH_FILTER_EXPR", "s", 2),
        ("SCEV_KNOWN", "E", 0),
        ("SCEV_NOT_KNOWN", "E", 0),
        ("POLYNOMIAL_CHREC", "E", 2),
        ("STATEMENT_LIST", "x", 0),
        ("ASSERT_EXPR", "E", 2),
        ("TREE_BINFO", "x", 0),
        ("WITH_SIZE_EXPR", "E", 2),
        ("REALIGN_LOAD_EXPR", "E", 3),
        ("TARGET_MEM_REF", "r", 5),
        ("MEM_REF", "r", 2),
        ("OACC_PARALLEL", "s", 2),
        ("OACC_KERNELS", "s", 2),
        ("OACC_SERIAL", "s", 2),
        ("OACC_DATA", "s", 2),
        ("OACC_HOST_DATA", "s", 2),
        ("OMP_PARALLEL", "s", 2),
        ("OMP_TASK", "s", 2),
        ("OMP_FOR", "s", 7),
        ("OMP_SIMD", "s", 7),
        ("OMP_DISTRIBUTE", "s", 7),
        ("OMP_TASKLOOP", "s", 7),
        ("OMP_LOOP", "s", 7),
        ("OACC_LOOP", "s", 7),
        ("OMP_TEAMS", "s", 2),
        ("OMP_TARGET_DATA", "s", 2),
        ("OMP_TARGET", "s", 2),
        ("OMP_SECTIONS", "s", 2),
        ("OMP_ORDERED", "s", 2),
        ("OMP_CRITICAL", "s", 3),
        ("OMP_SINGLE", "s", 2),
        ("OMP_SCOPE", "s", 2),
        ("OMP_TASKGROUP", "s", 2),
        ("OMP_MASKED", "s", 2),
        ("OMP_SCAN", "s", 2),
        ("OMP_SECTION", "s", 1),
        ("OMP_MASTER", "s", 1),
        ("OACC_CACHE", "s", 1),
        ("OACC_DECLARE", "s", 1),
        ("OACC_ENTER_DATA", "s", 1),
        ("OACC_EXIT_DATA", "s", 1),
        ("OACC_UPDATE", "s", 1),
        ("OMP_TARGET_UPDATE", "s", 1),
        ("OMP_TARGET_ENTER_DATA", "s", 1),
        ("OMP_TARGET_EXIT_DATA", "s", 1),
        ("OMP_ATOMIC", "s", 2),
        ("OMP_ATOMIC_READ", "s", 1),
        ("OMP_ATOMIC_CAPTURE_OLD", "s", 2),
        ("OMP_ATOMIC_CAPTURE_NEW", "s", 2),
        ("OMP_CLAUSE", "x", 0),
        ("TRANSACTION_EXPR", "E", 1),
        ("DOT_PROD_EXPR", "E", 3),
        ("WIDEN_SUM_EXPR", "2", 2),
        ("SAD_EXPR", "E", 3),
        ("WIDEN_MULT_EXPR", "2", 2),
        ("WIDEN_MULT_PLUS_EXPR", "E", 3),
        ("WIDEN_MULT_MINUS_EXPR", "E", 3),
        ("WIDEN_LSHIFT_EXPR", "2", 2),
        ("WIDEN_PLUS_EXPR", "2", 2),
        ("WIDEN_MINUS_EXPR", "2", 2),
        ("VEC_WIDEN_MULT_HI_EXPR", "2", 2),
        ("VEC_WIDEN_MULT_LO_EXPR", "2", 2),
        ("VEC_WIDEN_MULT_EVEN_EXPR", "2", 2),
        ("VEC_WIDEN_MULT_ODD_EXPR", "2", 2),
        ("VEC_UNPACK_HI_EXPR", "1", 1),
        ("VEC_UNPACK_LO_EXPR", "1", 1),
        ("VEC_UNPACK_FLOAT_HI_EXPR", "1", 1),
        ("VEC_UNPACK_FLOAT_LO_EXPR", "1", 1),
        ("VEC_UNPACK_FIX_TRUNC_HI_EXPR", "1", 1),
        ("VEC_UNPACK_FIX_TRUNC_LO_EXPR", "1", 1),
        ("VEC_PACK_TRUNC_EXPR", "2", 2),
        ("VEC_PACK_SAT_EXPR", "2", 2),
        ("VEC_PACK_FIX_TRUNC_EXPR", "2", 2),
        ("VEC_PACK_FLOAT_EXPR", "2", 2),
        ("VEC_WIDEN_LSHIFT_HI_EXPR", "2", 2),
        ("VEC_WIDEN_LSHIFT_LO_EXPR", "2", 2),
        ("VEC_WIDEN_PLUS_HI_EXPR", "2", 2),
        ("VEC_WIDEN_PLUS_LO_EXPR", "2", 2),
        ("VEC_WIDEN_MINUS_HI_EXPR", "2", 2),
        ("VEC_WIDEN_MINUS_LO_EXPR", "2", 2),
        ("PREDICT_EXPR", "E", 1),
        ("OPTIMIZATION_NODE", "x", 0),
        ("TARGET_OPTION_NODE", "x", 0),
        ("ANNOTATE_EXPR", "E", 3),
    ]
}
