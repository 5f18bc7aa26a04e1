// Each CASE must fail to compile: the format string is checked against the arguments.
#include "ouroboros/format.hpp"

int main() {
#if CASE == 1
  return static_cast<int>(ouroboros::format("{} {}", 1).size());  // more fields than arguments
#elif CASE == 2
  return static_cast<int>(ouroboros::format("{:.2f}", 1).size());  // float type for an integer
#elif CASE == 3
  return static_cast<int>(ouroboros::format("{", 1).size());  // unterminated field
#elif CASE == 4
  return static_cast<int>(ouroboros::format("{:d}", "text").size());  // integer type for a string
#else
  return static_cast<int>(ouroboros::format("{} ok", 1).size());  // the control case compiles
#endif
}
