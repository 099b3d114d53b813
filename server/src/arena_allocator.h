// Request and response of a unary callback method on one protobuf arena per call: parsing a
// push then allocates each envelope's fields from a few arena blocks instead of a malloc and a
// free per string (docs/performance.md, push items). Only server/*_service.cpp include this.
#pragma once

#include <cstddef>

#include <google/protobuf/arena.h>
#include <grpcpp/support/message_allocator.h>

namespace kring::server {

template <class Request, class Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  // gRPC calls Release() after the reactor's OnDone, so anything that points into the request
  // (a push's prepared envelopes) is gone by then, as with gRPC's own allocation.
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions o;
      o.start_block_size = 4096;     // a single-op push fits in the first block
      o.max_block_size = 64 * 1024;  // a push of 50 1 KiB notes in a handful more
      return o;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace kring::server
