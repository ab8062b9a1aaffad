-- svcshell_rule.lua - the Lua equivalent of the svcshell filter, for the throughput comparison only
-- (tests/fluentbit.rs, real_fluent_bit_throughput): Elastic's "System Shells via Services" condition on ECS records
-- with nested keys, as a Fluent Bit Lua filter (call = svcshell). Matches get event.kind = "alert" and a rule object.
--
--   process where host.os.type == "windows" and event.type == "start" and
--     process.parent.name : "services.exe" and
--     process.name : ("cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe") and
--     not process.args : "NVDisplay.ContainerLocalSystem"
--
-- `==` is exact; `:` folds ASCII case; a field with several values (an array) matches when any value does.

local SHELLS = { ["cmd.exe"] = true, ["powershell.exe"] = true, ["pwsh.exe"] = true, ["powershell_ise.exe"] = true }

-- any value of v (a string or an array of strings) satisfies pred
local function any(v, pred)
  if type(v) == "string" then
    return pred(v)
  elseif type(v) == "table" then
    for _, x in ipairs(v) do
      if type(x) == "string" and pred(x) then
        return true
      end
    end
  end
  return false
end

local function field(t, a, b, c)
  if type(t) ~= "table" then return nil end
  t = t[a]
  if b == nil or type(t) ~= "table" then return b == nil and t or nil end
  t = t[b]
  if c == nil or type(t) ~= "table" then return c == nil and t or nil end
  return t[c]
end

function svcshell(tag, timestamp, record)
  local ev = record["event"]
  if not any(field(ev, "category"), function(s) return s == "process" end) then return 0, timestamp, record end
  if not any(field(record, "host", "os", "type"), function(s) return s == "windows" end) then return 0, timestamp, record end
  if not any(field(ev, "type"), function(s) return s == "start" end) then return 0, timestamp, record end
  if not any(field(record, "process", "parent", "name"), function(s) return string.lower(s) == "services.exe" end) then
    return 0, timestamp, record
  end
  if not any(field(record, "process", "name"), function(s) return SHELLS[string.lower(s)] == true end) then
    return 0, timestamp, record
  end
  if any(field(record, "process", "args"), function(s) return string.lower(s) == "nvdisplay.containerlocalsystem" end) then
    return 0, timestamp, record
  end
  ev["kind"] = "alert"
  ev["severity"] = 47
  ev["risk_score"] = 47
  record["rule"] = { id = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd", name = "System Shells via Services", version = "313" }
  return 2, timestamp, record
end
