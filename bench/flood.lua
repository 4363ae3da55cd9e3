-- wrk script of bench/memory.sh. MODE=login: failed logins for random addresses from random sources
-- (X-Forwarded-For, read by a server started with --behind-proxy; 198.18.0.0/15 is the range set
-- aside for benchmarks). MODE=search: public searches that are all different and answer ~100 KB.
-- Counts the answers by status.
local mode = os.getenv("MODE") or "login"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):sub(8), 16) % 100000)
  statuses = {}
end

function request()
  if mode == "login" then
    local n = math.random(1, 100000000)
    local headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Sec-Fetch-Site"] = "same-origin",
      ["X-Forwarded-For"] = string.format("198.%d.%d.%d", math.random(18, 19), math.random(0, 255), math.random(1, 254)),
    }
    local body = string.format("email=personne%d%%40exemple.fr&password=mauvais+mot+de+passe+%d", n, n)
    return wrk.format("POST", "/connexion", headers, body)
  else
    local path = string.format(
      "/api/v1/events?edition=2024&per_page=100&page=%d&near=75001&radius_km=%d&from=2024-11-0%d",
      math.random(1, 30), math.random(1, 200), math.random(1, 9))
    return wrk.format("GET", path)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format("%s: %d", k, v)) end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, ", ") .. "\n")
end
