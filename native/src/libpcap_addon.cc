// fplc_libpcap: libpcap's filter compiler and its userland BPF interpreter, exposed to Node
// as the oracle for fplc's libpcap-expression and classic-BPF front ends.
//
//   compile(expr, linkType, snaplen, optimize, netmask) -> { ok, insns: Uint32Array } | { ok, error }
//   filterRecords(insns: Uint32Array, records: Uint8Array, count) -> Uint32Array
//   bench(insns: Uint32Array, records: Uint8Array, count, rounds) -> ns per packet (best round)
//   version() -> pcap_lib_version()
//   linuxCheck(insns: Uint32Array) -> 0 when this machine's kernel accepts the program as a socket
//     filter (SO_ATTACH_FILTER runs Linux's classic checker), else the errno it gave

//
// Instructions travel as a flat Uint32Array, four words per instruction: code, jt, jf, k.
// Records are the ABI batch layout: 16-byte little-endian pcap record header, then caplen bytes.
#include <napi.h>
#include <pcap/pcap.h>

#include <linux/filter.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

constexpr size_t kRecordHeader = 16;

uint32_t ReadLE32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// Converts the flat instruction words to libpcap's struct and checks them with libpcap's own
// validator, so that bpf_filter never sees a program it could abort on or read out of bounds with.
bool ToProgram(const Napi::Env& env, const Napi::Value& v, std::vector<bpf_insn>* out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    Napi::TypeError::New(env, "insns must be a Uint32Array of (code, jt, jf, k) words").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint32Array words = v.As<Napi::Uint32Array>();
  size_t n = words.ElementLength();
  if (n == 0 || n % 4 != 0) {
    Napi::RangeError::New(env, "insns must hold a non-empty multiple of 4 words").ThrowAsJavaScriptException();
    return false;
  }
  out->resize(n / 4);
  for (size_t i = 0; i < n / 4; i++) {
    uint32_t code = words[i * 4], jt = words[i * 4 + 1], jf = words[i * 4 + 2];
    if (code > 0xffff || jt > 0xff || jf > 0xff) {
      Napi::RangeError::New(env, "instruction " + std::to_string(i) + " has a field out of range (code 16 bits, jt/jf 8 bits)")
          .ThrowAsJavaScriptException();
      return false;
    }
    (*out)[i].code = static_cast<u_short>(code);
    (*out)[i].jt = static_cast<u_char>(jt);
    (*out)[i].jf = static_cast<u_char>(jf);
    (*out)[i].k = words[i * 4 + 3];
  }
  if (!bpf_validate(out->data(), static_cast<int>(out->size()))) {
    Napi::Error::New(env, "libpcap's bpf_validate rejects this program").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

struct RecordView {
  const uint8_t* bytes;
  uint32_t caplen;
  uint32_t wirelen;
};

// Splits the batch into records, checking every header against the buffer.
bool ToRecords(const Napi::Env& env, const Napi::Value& v, const Napi::Value& countArg, std::vector<RecordView>* out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "records must be a Uint8Array of ABI records").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array buf = v.As<Napi::Uint8Array>();
  const uint8_t* base = buf.Data();
  size_t size = buf.ByteLength();
  double limit = -1;
  if (!countArg.IsUndefined() && !countArg.IsNull()) {
    if (!countArg.IsNumber() || countArg.As<Napi::Number>().DoubleValue() < 0) {
      Napi::TypeError::New(env, "count must be a non-negative number").ThrowAsJavaScriptException();
      return false;
    }
    limit = countArg.As<Napi::Number>().DoubleValue();
  }
  size_t off = 0;
  while (off < size && (limit < 0 || static_cast<double>(out->size()) < limit)) {
    if (size - off < kRecordHeader) {
      Napi::RangeError::New(env, "record " + std::to_string(out->size()) + " at byte " + std::to_string(off) +
                                     ": header truncated").ThrowAsJavaScriptException();
      return false;
    }
    uint32_t caplen = ReadLE32(base + off + 8);
    uint32_t wirelen = ReadLE32(base + off + 12);
    if (caplen > size - off - kRecordHeader) {
      Napi::RangeError::New(env, "record " + std::to_string(out->size()) + " at byte " + std::to_string(off) +
                                     ": caplen " + std::to_string(caplen) + " runs past the end of the buffer")
          .ThrowAsJavaScriptException();
      return false;
    }
    out->push_back({base + off + kRecordHeader, caplen, wirelen});
    off += kRecordHeader + caplen;
  }
  if (limit >= 0 && static_cast<double>(out->size()) < limit) {
    Napi::RangeError::New(env, "count " + std::to_string(static_cast<uint64_t>(limit)) + " exceeds the " +
                                   std::to_string(out->size()) + " records in the buffer").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value Compile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsBoolean() ||
      !info[4].IsNumber()) {
    Napi::TypeError::New(env, "compile(expr: string, linkType: number, snaplen: number, optimize: boolean, netmask: number)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string expr = info[0].As<Napi::String>().Utf8Value();
  int linkType = info[1].As<Napi::Number>().Int32Value();
  int snaplen = info[2].As<Napi::Number>().Int32Value();
  int optimize = info[3].As<Napi::Boolean>().Value() ? 1 : 0;
  bpf_u_int32 netmask = info[4].As<Napi::Number>().Uint32Value();

  Napi::Object result = Napi::Object::New(env);
  pcap_t* p = pcap_open_dead(linkType, snaplen);
  if (p == nullptr) {
    result.Set("ok", false);
    result.Set("error", "pcap_open_dead failed for link type " + std::to_string(linkType));
    return result;
  }
  bpf_program prog{};
  if (pcap_compile(p, &prog, expr.c_str(), optimize, netmask) != 0) {
    result.Set("ok", false);
    result.Set("error", std::string(pcap_geterr(p)));
    pcap_close(p);
    return result;
  }
  Napi::Uint32Array words = Napi::Uint32Array::New(env, size_t(prog.bf_len) * 4);
  for (u_int i = 0; i < prog.bf_len; i++) {
    words[i * 4] = prog.bf_insns[i].code;
    words[i * 4 + 1] = prog.bf_insns[i].jt;
    words[i * 4 + 2] = prog.bf_insns[i].jf;
    words[i * 4 + 3] = prog.bf_insns[i].k;
  }
  pcap_freecode(&prog);
  pcap_close(p);
  result.Set("ok", true);
  result.Set("insns", words);
  return result;
}

Napi::Value FilterRecords(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<bpf_insn> prog;
  std::vector<RecordView> records;
  if (!ToProgram(env, info[0], &prog) || !ToRecords(env, info[1], info[2], &records)) return env.Undefined();
  Napi::Uint32Array out = Napi::Uint32Array::New(env, records.size());
  for (size_t i = 0; i < records.size(); i++) {
    // pcap_offline_filter's argument order: wire length as len, captured length as buflen.
    out[i] = bpf_filter(prog.data(), records[i].bytes, records[i].wirelen, records[i].caplen);
  }
  return out;
}

double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

Napi::Value Bench(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<bpf_insn> prog;
  std::vector<RecordView> records;
  if (!ToProgram(env, info[0], &prog) || !ToRecords(env, info[1], info[2], &records)) return env.Undefined();
  if (!info[3].IsNumber() || info[3].As<Napi::Number>().Int32Value() < 1) {
    Napi::TypeError::New(env, "rounds must be a positive number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (records.empty()) {
    Napi::RangeError::New(env, "bench needs at least one record").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int rounds = info[3].As<Napi::Number>().Int32Value();
  double best = -1;
  volatile u_int sink = 0;  // keeps the calls from being optimised away
  for (int r = 0; r < rounds; r++) {
    double t0 = NowNs();
    u_int acc = 0;
    for (const RecordView& rec : records) acc += bpf_filter(prog.data(), rec.bytes, rec.wirelen, rec.caplen);
    double t = NowNs() - t0;
    sink = sink + acc;
    if (best < 0 || t < best) best = t;
  }
  return Napi::Number::New(env, best / double(records.size()));
}

// Lets the running kernel judge a classic BPF program: attaching it to a throwaway socket runs
// bpf_check_classic. Unlike filterRecords, no libpcap validation comes first: any program is fine.
Napi::Value LinuxCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    Napi::TypeError::New(env, "linuxCheck(insns: Uint32Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint32Array words = info[0].As<Napi::Uint32Array>();
  size_t n = words.ElementLength() / 4;
  std::vector<sock_filter> prog(n);
  for (size_t i = 0; i < n; i++) {
    prog[i].code = static_cast<uint16_t>(words[i * 4]);
    prog[i].jt = static_cast<uint8_t>(words[i * 4 + 1]);
    prog[i].jf = static_cast<uint8_t>(words[i * 4 + 2]);
    prog[i].k = words[i * 4 + 3];
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) {
    Napi::Error::New(env, std::string("socket() failed: ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(n > 0xffff ? 0xffff : n);
  fprog.filter = prog.data();
  int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
  int err = rc == 0 ? 0 : errno;
  close(fd);
  return Napi::Number::New(env, err);
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("compile", Napi::Function::New(env, Compile));
  exports.Set("filterRecords", Napi::Function::New(env, FilterRecords));
  exports.Set("bench", Napi::Function::New(env, Bench));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("linuxCheck", Napi::Function::New(env, LinuxCheck));
  return exports;
}

}  // namespace

NODE_API_MODULE(fplc_libpcap, Init)
