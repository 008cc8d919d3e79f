/* How every operator chooses a row of its table: the first whose features are all enabled and, for rows with a
 * shape predicate, that takes the shape. Used as the body of a small function returning the row's index. */
#ifndef MLRC_OPERATORS_CHOOSE_H
#define MLRC_OPERATORS_CHOOSE_H
#include "mlrc_ukernels.h"

/* Tables whose last row is the reference (it needs nothing): that row when no other is enabled. */
#define MLRC_FIRST_ENABLED(table, count, features)                                                                     \
    for (int32_t i_ = 0; i_ < (count); i_++)                                                                           \
        if (!mlrc_variant_missing((table)[i_].requires, (features))) return i_;                                        \
    return (count)-1;

/* Tables with shape predicates (NULL: every shape); `none` when no row takes the call. */
#define MLRC_FIRST_SUITED(table, count, features, g, none)                                                             \
    for (int32_t i_ = 0; i_ < (count); i_++)                                                                           \
        if (!mlrc_variant_missing((table)[i_].requires, (features)) &&                                                 \
            (!(table)[i_].suits || (table)[i_].suits((g), (features))))                                                \
            return i_;                                                                                                 \
    return (none);

/* Whether a row whose pair_limit is `limit` (0: exact on any weights) takes weights whose mlrc_q8_weight_pair_peak
 * is `peak`: the int8 GEMM and convolution tables' extra condition beside the features and the shape. */
static inline int mlrc_pair_limit_takes(int32_t limit, int32_t peak) { return !limit || peak <= limit; }
#endif
