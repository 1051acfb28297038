// The upstream HTTPS/JSON client (adapters/upstream_client.hpp) against scripted servers on
// loopback in the same io_context: what a request carries, every failure class with its
// deadline, and TLS with server verification and a client certificate (keys and certificates
// generated here with OpenSSL, nothing on disk but the test's own directory).
#include "adapters/upstream_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace pb::adapters {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// What a scripted server does with one connection after reading the request head + body.
using Script = std::function<void(std::shared_ptr<tcp::socket>, std::string request)>;

class ScriptedServer {
public:
    ScriptedServer(asio::io_context& io, Script script) : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), script_(std::move(script)) {
        accept();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string last_request;

private:
    void accept() {
        auto sock = std::make_shared<tcp::socket>(io_);
        acceptor_.async_accept(*sock, [this, sock](boost::system::error_code ec) {
            if (ec) return;
            auto buf = std::make_shared<asio::streambuf>();
            asio::async_read_until(*sock, *buf, "\r\n\r\n", [this, sock, buf](boost::system::error_code e, std::size_t) {
                if (e) return;
                std::string req(asio::buffers_begin(buf->data()), asio::buffers_end(buf->data()));
                last_request = req;
                script_(sock, req);
            });
            accept();
        });
    }
    asio::io_context& io_;
    tcp::acceptor acceptor_;
    Script script_;
};

Script answer(std::string raw) {
    return [raw](std::shared_ptr<tcp::socket> s, std::string) {
        auto data = std::make_shared<std::string>(raw);
        asio::async_write(*s, asio::buffer(*data), [s, data](boost::system::error_code, std::size_t) {
            boost::system::error_code ec;
            s->shutdown(tcp::socket::shutdown_send, ec);
        });
    };
}

struct Outcome {
    std::optional<CallResult> result;
    std::chrono::steady_clock::duration took{};
};

UpstreamEndpoint plain(std::uint16_t port, std::chrono::milliseconds timeout = 2000ms) {
    UpstreamEndpoint ep;
    ep.name = "commitment";
    ep.url = *upstream::parse_url("http://127.0.0.1:" + std::to_string(port) + "/api");
    ep.bearer_token = "s3cret";
    ep.timeout = timeout;
    return ep;
}

Outcome call(asio::io_context& io, UpstreamClient& client, HttpCall c = {}) {
    if (c.path.empty()) c.path = "/v1/commitments/debit";
    if (c.body.empty()) c.body = R"({"x":1})";
    Outcome out;
    auto started = std::chrono::steady_clock::now();
    client.call(c, [&](CallResult r) {
        out.took = std::chrono::steady_clock::now() - started;
        out.result = std::move(r);
    });
    io.restart();
    // Until the completion; bounded: every call has a deadline of its own, this only guards a
    // broken client.
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!out.result && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
    return out;
}

TEST(UpstreamClient, RequestCarriesTargetTokenKeyAndBody) {
    asio::io_context io;
    ScriptedServer server(io, answer("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"));
    auto client = UpstreamClient::create(io.get_executor(), plain(server.port()));
    ASSERT_TRUE(client) << client.error();
    HttpCall c;
    c.idempotency_key = "commitment:O-1#c1";
    auto out = call(io, **client, c);
    ASSERT_TRUE(out.result && *out.result) << (out.result ? out.result->error().message : "no result");
    EXPECT_EQ((*out.result)->status, 201u);
    EXPECT_EQ((*out.result)->body, "{\"ok\":true}");
    const std::string& req = server.last_request;
    EXPECT_EQ(req.rfind("POST /api/v1/commitments/debit HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Authorization: Bearer s3cret\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("Idempotency-Key: commitment:O-1#c1\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("Content-Type: application/json\r\n"), std::string::npos) << req;
}

TEST(UpstreamClient, SilentServerIsATimeoutAtTheDeadline) {
    asio::io_context io;
    std::vector<std::shared_ptr<tcp::socket>> held;
    ScriptedServer server(io, [&](std::shared_ptr<tcp::socket> s, std::string) { held.push_back(s); });
    auto client = UpstreamClient::create(io.get_executor(), plain(server.port(), 300ms));
    ASSERT_TRUE(client);
    auto out = call(io, **client);
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.result->error().code, CallErrc::timeout) << out.result->error().message;
    EXPECT_NE(out.result->error().message.find("commitment: no answer within 300 ms"), std::string::npos)
        << out.result->error().message;
    EXPECT_GE(out.took, 290ms);
    EXPECT_LT(out.took, 5s);  // generous: a loaded CI machine under ASan
}

TEST(UpstreamClient, ClosedWithoutAnswerIsAReset) {
    asio::io_context io;
    ScriptedServer server(io, [](std::shared_ptr<tcp::socket> s, std::string) {
        boost::system::error_code ec;
        s->set_option(asio::socket_base::linger(true, 0), ec);
        s->close(ec);
    });
    auto client = UpstreamClient::create(io.get_executor(), plain(server.port()));
    ASSERT_TRUE(client);
    auto out = call(io, **client);
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.result->error().code, CallErrc::reset) << out.result->error().message;
}

TEST(UpstreamClient, NotHttpOrTooLargeIsABadReply) {
    asio::io_context io;
    ScriptedServer garbage(io, answer("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    ScriptedServer huge(io, answer("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n" + std::string(2000000, 'x')));
    auto c1 = UpstreamClient::create(io.get_executor(), plain(garbage.port()));
    auto c2 = UpstreamClient::create(io.get_executor(), plain(huge.port()));
    ASSERT_TRUE(c1 && c2);
    auto o1 = call(io, **c1);
    ASSERT_TRUE(o1.result && !*o1.result);
    EXPECT_EQ(o1.result->error().code, CallErrc::bad_reply) << o1.result->error().message;
    auto o2 = call(io, **c2);
    ASSERT_TRUE(o2.result && !*o2.result);
    EXPECT_EQ(o2.result->error().code, CallErrc::bad_reply) << o2.result->error().message;
    EXPECT_NE(o2.result->error().message.find("larger than"), std::string::npos);
}

TEST(UpstreamClient, RefusedConnectionIsAConnectError) {
    asio::io_context io;
    std::uint16_t port = 0;
    {
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }  // closed: nothing listens there now
    auto client = UpstreamClient::create(io.get_executor(), plain(port));
    ASSERT_TRUE(client);
    auto out = call(io, **client);
    ASSERT_TRUE(out.result && !*out.result);
    EXPECT_EQ(out.result->error().code, CallErrc::connect) << out.result->error().message;
}

TEST(UpstreamClient, ClientDestroyedMidCallCompletesAsCanceled) {
    asio::io_context io;
    std::vector<std::shared_ptr<tcp::socket>> held;
    ScriptedServer server(io, [&](std::shared_ptr<tcp::socket> s, std::string) { held.push_back(s); });
    auto client = UpstreamClient::create(io.get_executor(), plain(server.port(), 300ms));
    ASSERT_TRUE(client);
    std::optional<CallResult> got;
    HttpCall c;
    c.path = "/v1/x";
    (*client)->call(c, [&](CallResult r) { got = std::move(r); });
    client->reset();
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!got && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
    ASSERT_TRUE(got && !*got);
    EXPECT_EQ(got->error().code, CallErrc::canceled);
}

// ---- TLS -------------------------------------------------------------------------------------

struct Pem {
    std::string cert_path, key_path;
};

/// A self-signed certificate for 127.0.0.1 / localhost (EC P-256), written as PEM files.
Pem make_certificate(const std::filesystem::path& dir, const std::string& name) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME* subject = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, subject);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    for (const char* ext : {"subjectAltName", "basicConstraints"}) {
        const char* value = std::string(ext) == "subjectAltName" ? "IP:127.0.0.1,DNS:localhost" : "critical,CA:TRUE";
        X509_EXTENSION* e = X509V3_EXT_conf(nullptr, &ctx, ext, value);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, key, EVP_sha256());
    Pem pem{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
    FILE* f = std::fopen(pem.cert_path.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    f = std::fopen(pem.key_path.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    return pem;
}

class TlsServer {
public:
    TlsServer(asio::io_context& io, const Pem& server, const Pem* trusted_client)
        : io_(io), ctx_(ssl::context::tls_server), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        ctx_.use_certificate_chain_file(server.cert_path);
        ctx_.use_private_key_file(server.key_path, ssl::context::pem);
        if (trusted_client) {
            ctx_.load_verify_file(trusted_client->cert_path);
            ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        }
        accept();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    int served = 0;

private:
    void accept() {
        auto stream = std::make_shared<ssl::stream<tcp::socket>>(io_, ctx_);
        acceptor_.async_accept(stream->lowest_layer(), [this, stream](boost::system::error_code ec) {
            if (ec) return;
            stream->async_handshake(ssl::stream_base::server, [this, stream](boost::system::error_code e) {
                if (e) return;
                auto buf = std::make_shared<asio::streambuf>();
                asio::async_read_until(*stream, *buf, "\r\n\r\n", [this, stream, buf](boost::system::error_code r, std::size_t) {
                    if (r) return;
                    ++served;
                    auto reply = std::make_shared<std::string>("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
                    asio::async_write(*stream, asio::buffer(*reply), [stream, reply](boost::system::error_code, std::size_t) {});
                });
            });
            accept();
        });
    }
    asio::io_context& io_;
    ssl::context ctx_;
    tcp::acceptor acceptor_;
};

struct TlsTest : ::testing::Test {
    std::filesystem::path dir;
    void SetUp() override {
        std::string t = (std::filesystem::temp_directory_path() / "pb-tls-XXXXXX").string();
        ASSERT_NE(::mkdtemp(t.data()), nullptr);
        dir = t;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    UpstreamEndpoint endpoint(std::uint16_t port) {
        UpstreamEndpoint ep;
        ep.name = "commitment";
        ep.url = *upstream::parse_url("https://127.0.0.1:" + std::to_string(port));
        ep.timeout = 3000ms;
        return ep;
    }
};

TEST_F(TlsTest, ServerCertificateIsVerifiedAgainstTheConfiguredCa) {
    asio::io_context io;
    Pem server = make_certificate(dir, "server");
    TlsServer tls(io, server, nullptr);

    auto ep = endpoint(tls.port());
    ep.ca_file = server.cert_path;
    auto trusting = UpstreamClient::create(io.get_executor(), ep);
    ASSERT_TRUE(trusting) << trusting.error();
    auto ok = call(io, **trusting);
    ASSERT_TRUE(ok.result && *ok.result) << (ok.result ? ok.result->error().message : "");
    EXPECT_EQ((*ok.result)->status, 200u);

    // Someone else's certificate: refused at the handshake, nothing sent.
    Pem other = make_certificate(dir, "other");
    ep.ca_file = other.cert_path;
    auto wrong = UpstreamClient::create(io.get_executor(), ep);
    ASSERT_TRUE(wrong);
    auto bad = call(io, **wrong);
    ASSERT_TRUE(bad.result && !*bad.result);
    EXPECT_EQ(bad.result->error().code, CallErrc::tls) << bad.result->error().message;
    EXPECT_EQ(tls.served, 1);
}

TEST_F(TlsTest, ClientCertificateIsPresentedWhenConfigured) {
    asio::io_context io;
    Pem server = make_certificate(dir, "server");
    Pem client_cert = make_certificate(dir, "paybridge");
    TlsServer tls(io, server, &client_cert);

    auto ep = endpoint(tls.port());
    ep.ca_file = server.cert_path;
    auto anonymous = UpstreamClient::create(io.get_executor(), ep);
    ASSERT_TRUE(anonymous);
    auto refused = call(io, **anonymous);
    ASSERT_TRUE(refused.result && !*refused.result);
    EXPECT_EQ(tls.served, 0);

    ep.client_cert_file = client_cert.cert_path;
    ep.client_key_file = client_cert.key_path;
    auto with_cert = UpstreamClient::create(io.get_executor(), ep);
    ASSERT_TRUE(with_cert) << with_cert.error();
    auto ok = call(io, **with_cert);
    ASSERT_TRUE(ok.result && *ok.result) << (ok.result ? ok.result->error().message : "");
    EXPECT_EQ(tls.served, 1);
}

TEST_F(TlsTest, UnloadableTlsMaterialIsAStartupError) {
    asio::io_context io;
    auto ep = endpoint(443);
    ep.ca_file = (dir / "missing.pem").string();
    auto c = UpstreamClient::create(io.get_executor(), ep);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().find("cannot load CA certificates"), std::string::npos) << c.error();

    Pem a = make_certificate(dir, "a");
    Pem b = make_certificate(dir, "b");
    ep.ca_file.clear();
    ep.client_cert_file = a.cert_path;
    ep.client_key_file = b.key_path;
    auto mismatch = UpstreamClient::create(io.get_executor(), ep);
    ASSERT_FALSE(mismatch);
    EXPECT_NE(mismatch.error().find("client key"), std::string::npos) << mismatch.error();
}

}  // namespace
}  // namespace pb::adapters
