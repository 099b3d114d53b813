# Every external dependency, all from Debian 12 packages. Nothing is vendored or downloaded.
find_package(Threads REQUIRED)
find_package(Protobuf 3.21 REQUIRED)  # module mode; CONFIG mode fails on Debian 12
find_package(gRPC 1.51 CONFIG REQUIRED)
find_package(SQLite3 3.40 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
if(KRING_BUILD_TESTS)
  find_package(Catch2 2.13 CONFIG REQUIRED)
  include(Catch)
  # Debian's own interpreter runs the independent iCalendar check (tests/unit/icalendar_check.py)
  # because python3-icalendar is installed for it; a pyenv or venv python3 on PATH lacks it.
  find_program(KRING_SYSTEM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
endif()
