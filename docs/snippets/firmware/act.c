/* a firmware unit that applies both activations to a layer's outputs in place */
#include "sigmoid.h"
#include "tanh_act.h"

void gate(int8_t *x, size_t n) { sigmoid_array(x, (uint8_t *)x, n); }
void squash(int16_t *x, size_t n) { tanh_act_array(x, x, n); }
