-- One booking per request, of a class of 2 to 9 people, each from its own address and source, at
-- the same session: the contention of a popular visit opening its bookings.
counter = 0
local thread_id = 0
function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
request = function()
  counter = counter + 1
  local n = counter * 7 % 8 + 1
  local body = string.format(
    '{"kind":"classe","uai":"0750655E","school":"Collège","level":"college","pupils":%d,"adults":1,' ..
    '"phone":"0400000000","name":"Enseignant","email":"e%d-%d-%d@bench.example","acknowledged":true}',
    n, tid or 0, counter, math.random(1, 1000000000))
  -- A distinct client address per request (loopback range, read only because the server runs
  -- --behind-proxy): the per-source allowance is not what is measured here.
  local xff = string.format("127.%d.%d.%d", math.random(1, 250), math.random(1, 250), math.random(1, 250))
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = xff}, body)
end
