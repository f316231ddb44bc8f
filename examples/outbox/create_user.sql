-- One transaction: the business change and the event that announces it
-- commit together, or not at all. No second write to Kafka, no dual write.
-- mariadb userdb < examples/outbox/create_user.sql

START TRANSACTION;
INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada Lovelace');
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload)
VALUES (UUID(), 'user', LAST_INSERT_ID(), 'UserCreated',
        JSON_OBJECT('id', LAST_INSERT_ID(), 'email', 'ada@example.com', 'name', 'Ada Lovelace'));
COMMIT;

-- Optional: keep the outbox small. Deletes of outbox rows produce no event.
DELETE FROM outbox WHERE aggregatetype = 'user' AND aggregateid = LAST_INSERT_ID();
