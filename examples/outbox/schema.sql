-- The `users` service: its business table and its outbox table.
-- Run once: mariadb < examples/outbox/schema.sql

CREATE DATABASE IF NOT EXISTS userdb;
USE userdb;

CREATE TABLE users (
  id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email      VARCHAR(255) NOT NULL UNIQUE,
  name       VARCHAR(255) NOT NULL
);

-- Debezium's outbox layout: every column name is the router's default.
CREATE TABLE outbox (
  id            CHAR(36)     NOT NULL PRIMARY KEY, -- event id: the `id` header
  aggregatetype VARCHAR(255) NOT NULL,             -- routes to outbox.event.<aggregatetype>
  aggregateid   VARCHAR(255) NOT NULL,             -- the record key
  type          VARCHAR(255) NOT NULL,             -- event type: the `eventType` header
  payload       JSON         NOT NULL              -- the record value
);
