#include "protocol/zvt/tlv.hpp"

#include <stdexcept>
#include <string>

namespace pb::zvt {
namespace {

class TlvDecoder {
public:
    TlvDecoder(std::size_t base, std::size_t max_depth) : base_(base), max_depth_(max_depth) {}

    Expected<std::vector<TlvNode>, DecodeError> sequence(ByteView bytes, std::size_t offset,
                                                         std::size_t depth) {
        std::vector<TlvNode> out;
        ByteReader r(bytes);
        while (!r.empty()) {
            const std::size_t at = offset + r.position();
            if (++count_ > kMaxTlvElements)
                return fail(Error::tlv_too_many, at, "limit " + std::to_string(kMaxTlvElements));
            TlvNode node;
            // Tag (PA00P015 §9.2): low five bits all set -> further bytes while bit 8 is set.
            const std::uint8_t first = *r.u8();
            node.tag = first;
            if ((first & 0x1F) == 0x1F) {
                std::size_t len = 1;
                while (true) {
                    const auto b = r.u8();
                    if (!b) return fail(Error::tlv_truncated, at, "multi-byte tag cut short");
                    if (++len > 4) return fail(Error::tlv_tag_too_long, at, "");
                    node.tag = (node.tag << 8) | *b;
                    if (!(*b & 0x80)) break;
                }
            }
            // Length (§9.3): 00..7F, 81 xx, 82 hi lo (big-endian, unlike the APDU length).
            const auto l0 = r.u8();
            if (!l0) return fail(Error::tlv_truncated, at, "length missing");
            std::size_t len = *l0;
            if (*l0 == 0x81) {
                const auto l1 = r.u8();
                if (!l1) return fail(Error::tlv_truncated, at, "length 81 cut short");
                len = *l1;
            } else if (*l0 == 0x82) {
                const auto l2 = r.u16be();
                if (!l2) return fail(Error::tlv_truncated, at, "length 82 cut short");
                len = *l2;
            } else if (*l0 > 0x7F) {
                return fail(Error::tlv_bad_length, offset + r.position() - 1,
                            "length byte " + to_hex(ByteView{&*l0, 1}));
            }
            const std::size_t value_at = offset + r.position();
            const auto value = r.bytes(len);
            if (!value)
                return fail(Error::tlv_truncated, value_at,
                            "value needs " + std::to_string(len) + " bytes, " +
                                std::to_string(r.remaining()) + " left");
            if (first & 0x20) {
                if (depth + 1 > max_depth_)
                    return fail(Error::tlv_too_deep, at, "limit " + std::to_string(max_depth_));
                auto children = sequence(*value, value_at, depth + 1);
                if (!children) return unexpected(std::move(children.error()));
                node.children = std::move(*children);
            } else {
                node.value.assign(value->begin(), value->end());
            }
            out.push_back(std::move(node));
        }
        return out;
    }

private:
    Unexpected<DecodeError> fail(Error e, std::size_t at, std::string detail) const {
        return unexpected(DecodeError{e, base_ + at, std::move(detail)});
    }

    std::size_t base_;
    std::size_t max_depth_;
    std::size_t count_ = 0;
};

void put_tag(Bytes& out, std::uint32_t tag) {
    bool started = false;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const auto b = static_cast<std::uint8_t>((tag >> shift) & 0xFF);
        if (b || started || shift == 0) {
            out.push_back(b);
            started = true;
        }
    }
}

void put_length(Bytes& out, std::size_t n) {
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else if (n <= 0xFF) {
        out.push_back(0x81);
        out.push_back(static_cast<std::uint8_t>(n));
    } else if (n <= 0xFFFF) {
        out.push_back(0x82);
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n & 0xFF));
    } else {
        // A caller bug: no ZVT APDU can carry this (kMaxApduData).
        throw std::length_error("TLV value longer than 65535 bytes");
    }
}

std::uint8_t first_tag_byte(std::uint32_t tag) {
    if (tag > 0xFFFFFF) return static_cast<std::uint8_t>(tag >> 24);
    if (tag > 0xFFFF) return static_cast<std::uint8_t>(tag >> 16);
    if (tag > 0xFF) return static_cast<std::uint8_t>(tag >> 8);
    return static_cast<std::uint8_t>(tag);
}

}  // namespace

bool TlvNode::constructed() const { return (first_tag_byte(tag) & 0x20) != 0; }

const TlvNode* TlvNode::find(std::uint32_t t) const {
    for (const auto& c : children)
        if (c.tag == t) return &c;
    return nullptr;
}

std::string TlvNode::text() const { return std::string(value.begin(), value.end()); }

Expected<std::vector<TlvNode>, DecodeError> decode_tlv(ByteView bytes, std::size_t max_depth) {
    TlvDecoder d(0, max_depth);
    return d.sequence(bytes, 0, 0);
}

Bytes encode_tlv(const std::vector<TlvNode>& nodes) {
    Bytes out;
    for (const auto& n : nodes) {
        put_tag(out, n.tag);
        if (n.constructed()) {
            const Bytes inner = encode_tlv(n.children);
            put_length(out, inner.size());
            out.insert(out.end(), inner.begin(), inner.end());
        } else {
            put_length(out, n.value.size());
            out.insert(out.end(), n.value.begin(), n.value.end());
        }
    }
    return out;
}

TlvNode tlv_primitive(std::uint32_t tag, Bytes value) {
    TlvNode n;
    n.tag = tag;
    n.value = std::move(value);
    return n;
}

TlvNode tlv_text(std::uint32_t tag, std::string_view text) {
    return tlv_primitive(tag, Bytes(text.begin(), text.end()));
}

TlvNode tlv_constructed(std::uint32_t tag, std::vector<TlvNode> children) {
    TlvNode n;
    n.tag = tag;
    n.children = std::move(children);
    return n;
}

}  // namespace pb::zvt
