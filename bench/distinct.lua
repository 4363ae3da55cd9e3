-- Every request a different search (bench/nodes.sh, bench/search.sh): one of 15 words of the trades,
-- one of 20 departments, a page of 1 to 3, drawn per request.
local words = {"soudure", "usinage", "robot", "chimie", "textile", "bois", "energie", "numerique",
  "maintenance", "electricite", "plasturgie", "aeronautique", "automobile", "agroalimentaire", "metallurgie"}
local deps = {"01","13","21","29","31","33","35","38","44","49","59","62","67","69","75","76","78","92","93","95"}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local w = words[math.random(#words)]
  local d = deps[math.random(#deps)]
  local page = math.random(1, 3)
  return wrk.format("GET", "/api/v1/events?edition=2024&q=" .. w .. "&department=" .. d .. "&page=" .. page)
end
