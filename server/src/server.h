// Builds and runs the gRPC server: services, health, reflection, graceful shutdown.
#pragma once

#include <memory>

#include "kring/common/status.h"

#include "config.h"

namespace kring::server {

class Server {
 public:
  // Opens the data dir (created 0700), server key and database, then starts listening.
  static Result<std::unique_ptr<Server>> Start(const Config& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // Ends poke streams, stops accepting calls, waits (bounded) for running calls, then drains the
  // writer and closes the database. Idempotent.
  void Shutdown();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kring::server
