#include <stdio.h>

#include "sigmoid.h"   /* int8 */
#include "tanh_act.h"  /* int16 */

int main(void)
{
    /* the batch call: one code per element, in and out may be the same array */
    int8_t x8[4] = {-128, -16, 0, 127};
    uint8_t y8[4];
    int16_t x16[3] = {-8192, 1024, 32767};
    int16_t y16[3];
    size_t k;

    sigmoid_array(x8, y8, 4);
    tanh_act_array(x16, y16, 3);
    /* the formats are macros: real value = SCALE * (code - ZERO_POINT) */
    for (k = 0; k < 4; k++)
        printf("sigmoid(%8.4f) = %.6f\n",
               SIGMOID_IN_SCALE * (x8[k] - SIGMOID_IN_ZERO_POINT),
               SIGMOID_OUT_SCALE * (y8[k] - SIGMOID_OUT_ZERO_POINT));
    for (k = 0; k < 3; k++)
        printf("tanh(%8.4f) = %.6f\n", TANH_ACT_IN_SCALE * x16[k],
               TANH_ACT_OUT_SCALE * y16[k]);
    /* the scalar call clamps a code outside [IN_MIN, IN_MAX] to that range */
    printf("sigmoid(code 1000) = code %d (the code of %d)\n", sigmoid(1000), SIGMOID_IN_MAX);
    return 0;
}
