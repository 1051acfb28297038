#pragma once
// Paces writes at a serial line's speed. A pseudo-terminal moves bytes as fast as the kernel
// copies them; a real 9600 baud 8N2 line takes 11/9600 s per byte. The simulator wraps its
// pty link in this so that T1/T2/T3 timing and the serial benchmark see realistic wire time.

#include "adapters/link.hpp"

namespace pb::adapters {

/// Wraps `inner`: each write is cut into chunks of about a millisecond of wire time and the
/// next chunk waits until the previous one would have left the UART (bits_per_byte / baud
/// per byte, e.g. SerialSettings::bits_per_byte()). Reads pass through.
LinkPtr make_paced_link(LinkPtr inner, unsigned baud, unsigned bits_per_byte);

}  // namespace pb::adapters
