-- The database role station PCs connect as: it reads everything and changes only what
-- stations change. It cannot alter the schema, add or change people, roles, stations,
-- API tokens or settings, and it can rewrite no history (history tables also refuse
-- UPDATE and DELETE for every role). Run as the database's owner after
-- `shipfloor db upgrade`, and again after each upgrade that adds tables.
-- Replace the password; connect stations with
--   postgresql://shipfloor_station:PASSWORD@HOST/DB
CREATE ROLE shipfloor_station LOGIN PASSWORD 'change-me';
GRANT USAGE ON SCHEMA public TO shipfloor_station;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO shipfloor_station;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO shipfloor_station;
-- Work on the floor: picks, packing, loading, stock, orders' progress, waves finishing,
-- printing, close-outs.
GRANT INSERT, UPDATE ON
    inventory_positions, line_allocations, orders, pick_lists, pick_tasks, shipments,
    stock, waves, print_jobs, packages, invoices, sequences, loads, manifests,
    label_requests
TO shipfloor_station;
-- History is appended to, never changed.
GRANT INSERT ON
    login_events, order_events, pick_events, picked_serials, print_job_events,
    reservations, stock_movements, package_items, pack_events, ship_events,
    package_rates, voided_labels
TO shipfloor_station;
-- Messages for outside (a channel told an order shipped, the customer's email) are
-- written with the change they tell of; the outbox worker, not a station, sends them.
GRANT INSERT ON outbox TO shipfloor_station;
-- A wrong PIN counts towards locking a badge; a supervisor unlocks it. Nothing else
-- about a person.
GRANT UPDATE (failed_logins, locked_until) ON users TO shipfloor_station;
