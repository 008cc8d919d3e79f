/* Questions about the tables and plans that do not depend on the op: names and features of rows, plan names. */
#include <stdio.h>
#include "mlrc_ukernels.h"

/* Every op with a table: X(op, table, count). */
#define MLRC_TABLES(X)                                                                                                 \
    X(MLRC_OP_F32_GEMM, mlrc_f32_gemm_variants, mlrc_f32_gemm_variant_count)                                           \
    X(MLRC_OP_F32_CONV, mlrc_f32_conv_variants, mlrc_f32_conv_variant_count)                                           \
    X(MLRC_OP_F32_DWCONV, mlrc_f32_dwconv_variants, mlrc_f32_dwconv_variant_count)                                     \
    X(MLRC_OP_Q8_GEMM, mlrc_q8_gemm_variants, mlrc_q8_gemm_variant_count)                                              \
    X(MLRC_OP_Q8_CONV, mlrc_q8_conv_variants, mlrc_q8_conv_variant_count)                                              \
    X(MLRC_OP_Q8_DWCONV, mlrc_q8_dwconv_variants, mlrc_q8_dwconv_variant_count)                                        \
    X(MLRC_OP_Q8_MAXPOOL, mlrc_q8_maxpool_variants, mlrc_q8_maxpool_variant_count)                                     \
    X(MLRC_OP_Q8_QUANTIZE, mlrc_q8_quantize_variants, mlrc_q8_quantize_variant_count)                                  \
    X(MLRC_OP_Q8_ADD, mlrc_q8_add_variants, mlrc_q8_add_variant_count)                                                 \
    X(MLRC_OP_LAYERNORM, mlrc_layernorm_variants, mlrc_layernorm_variant_count)

int32_t mlrc_op_variant_count(int32_t op) {
#define COUNT(OP, table, count)                                                                                        \
    if (op == OP) return count;
    MLRC_TABLES(COUNT)
#undef COUNT
    return 0;
}

const char *mlrc_op_variant_name(int32_t op, int32_t variant) {
#define NAME(OP, table, count)                                                                                         \
    if (op == OP) return variant >= 0 && variant < count ? table[variant].name : NULL;
    MLRC_TABLES(NAME)
#undef NAME
    return NULL;
}

uint32_t mlrc_op_variant_requires(int32_t op, int32_t variant) {
#define REQUIRES(OP, table, count)                                                                                     \
    if (op == OP) return variant >= 0 && variant < count ? table[variant].requires : 0;
    MLRC_TABLES(REQUIRES)
#undef REQUIRES
    return 0;
}

const char *mlrc_kernel_plan_name(const mlrc_kernel_plan *plan, char *buf, size_t size) {
    if (!buf || size == 0) return buf;
    buf[0] = 0;
    if (!plan) return buf;
    const int conv = plan->op == MLRC_OP_F32_CONV || plan->op == MLRC_OP_Q8_CONV;
    const char *gemm =
        mlrc_op_variant_name(plan->op == MLRC_OP_F32_CONV ? MLRC_OP_F32_GEMM : MLRC_OP_Q8_GEMM, plan->gemm);
    const char *quantize = mlrc_op_variant_name(MLRC_OP_Q8_QUANTIZE, plan->quantize);
    const char *prefix = plan->op == MLRC_OP_F32_CONV ? "f32_conv" : "q8_conv";
    int n;
    if (conv && plan->arrangement == MLRC_CONV_GEMM)
        n = snprintf(buf, size, "%s", gemm ? gemm : "?");
    else if (conv && plan->arrangement == MLRC_CONV_IM2COL)
        n = snprintf(buf, size, "%s_im2col+%s", prefix, gemm ? gemm : "?");
    else {
        const char *name = mlrc_op_variant_name(plan->op, plan->variant);
        n = snprintf(buf, size, "%s", name ? name : "?");
    }
    if (quantize && n >= 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "+%s", quantize);
    return buf;
}
