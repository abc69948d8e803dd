# Toolchain: Debian clang 14 + wasm-ld targeting wasm32-wasi (wasi-libc + libc++ sysroot from
# Debian's wasi-libc and libc++-14-dev-wasm32 packages). The module is a "reactor" with no
# imports: it never touches stdio, clocks or the environment.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
find_program(SD_CLANG NAMES clang clang-14 REQUIRED)
find_program(SD_CLANGXX NAMES clang++ clang++-14 REQUIRED)
set(CMAKE_C_COMPILER ${SD_CLANG})
set(CMAKE_CXX_COMPILER ${SD_CLANGXX})
set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_CXX_COMPILER_TARGET wasm32-wasi)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-msimd128")
set(CMAKE_CXX_FLAGS_INIT "-msimd128 -fno-exceptions -fno-rtti")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mexec-model=reactor -Wl,--strip-all")
