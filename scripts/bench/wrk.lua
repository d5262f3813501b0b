-- wrk script: each request is signed for a random one of the seeded users.
-- Environment: BENCH_TOKENS (file, one token per line), BENCH_MODE (get | patch-bio | patch-skills).
local tokens = {}
local mode = os.getenv("BENCH_MODE") or "get"
local path = "/api/v1/iam/iamuserdetails/me/"
local skills = {"Rust", "Python", "Go", "TypeScript", "PostgreSQL", "Kubernetes", "PyTorch", "React",
                "Django", "CUDA", "Kafka", "Redis", "GraphQL", "AWS", "C++", "Zig", "Elixir", "Julia"}

function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end

request = function()
  local headers = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
  if mode == "get" then
    return wrk.format("GET", path, headers)
  end
  headers["Content-Type"] = "application/json"
  local body
  if mode == "patch-bio" then
    body = '{"bio":"bench ' .. math.random(1000000000) .. '"}'
  else
    local a, b, c = math.random(#skills), math.random(#skills), math.random(#skills)
    body = '{"skills":["' .. skills[a] .. '","' .. skills[b] .. '","' .. skills[c] .. '"]}'
  end
  return wrk.format("PATCH", path, headers, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors, summary.requests))
end
