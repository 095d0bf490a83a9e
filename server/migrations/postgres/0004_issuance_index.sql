-- One index fewer per issuance (see docs/server.md).
--
-- Every issuance inserted an entry into four indexes of `issuances`. The one on
-- (device_id, id) served only a device's token history, and UNIQUE (device_id, sequence), which
-- every issuance needs anyway (a count is never reused), leads with the device too: the history
-- reads its device's rows through that index, and the recent tokens a device report is answered
-- from are read newest count first from it (a device's counts only grow, so that is the order
-- they were issued in; rows without a count carry no token a report could send).
DROP INDEX issuances_by_device;
