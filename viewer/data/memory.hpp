// Giving memory back to the system when history is dropped.
//
// A tab's history is millions of small rows in large blocks (pages of rows, blocks of text).
// glibc serves blocks above its mmap threshold with their own mappings and unmaps them on free,
// but it raises that threshold dynamically after the first such free, after which the blocks
// come from the heap and stay in the process when freed. Fixing the threshold keeps the blocks
// mapped on their own; trimming after a tab closes returns what the heap still holds.
//
// Thread-safety: configure_allocator() once at start-up, before threads; the others from any
// thread.
#pragma once

#include <cstddef>

namespace ouroboros::viewer {

// Call once at start-up (the viewer's main, and tests that measure memory).
void configure_allocator();
// Returns freed heap memory to the system (after a tab closed).
void return_memory_to_system();
// Resident set size of this process in bytes (0 when unknown).
std::size_t resident_bytes();

}  // namespace ouroboros::viewer
