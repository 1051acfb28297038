#pragma once
// How a flow outside the payment orchestration (the upstream flows of issue 7) answers the ERP:
// replies to the client that asked, events on the one PUB stream (one `seq` for all), and the
// few facts of the running daemon it checks. Implemented by PaymentService.

#include <string>

#include <boost/json/object.hpp>

#include "protocol/erp/error.hpp"
#include "protocol/erp/event.hpp"
#include "protocol/erp/request.hpp"

namespace pb::daemon {

class ErpPort {
public:
    virtual void reply_ok(const std::string& client, const erp::Request& r, boost::json::object result) = 0;
    virtual void reply_err(const std::string& client, const erp::ErpError& e) = 0;
    virtual void publish(erp::EventBody body) = 0;
    virtual bool known_register(const std::string& id) const = 0;
    virtual bool is_stopping() const = 0;
    virtual ~ErpPort() = default;
};

}  // namespace pb::daemon
