-- Run once by the MySQL image on an empty data directory
-- (/docker-entrypoint-initdb.d). Binary logging is on while it runs, so with
-- `snapshot.mode: never` binlog-cdc streams these inserts as change events.

CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc-secret';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD ON *.* TO 'cdc'@'%';

CREATE DATABASE inventory;
USE inventory;

CREATE TABLE customers (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    first_name VARCHAR(255) NOT NULL,
    last_name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL UNIQUE
) AUTO_INCREMENT = 1001;

CREATE TABLE products (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description VARCHAR(512),
    weight DECIMAL(8, 3)
) AUTO_INCREMENT = 101;

CREATE TABLE orders (
    order_number INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_date DATE NOT NULL,
    purchaser INT NOT NULL,
    quantity INT NOT NULL,
    product_id INT NOT NULL,
    FOREIGN KEY (purchaser) REFERENCES customers (id),
    FOREIGN KEY (product_id) REFERENCES products (id)
) AUTO_INCREMENT = 10001;

INSERT INTO customers (first_name, last_name, email) VALUES
    ('Sally', 'Thomas', 'sally.thomas@acme.com'),
    ('George', 'Bailey', 'gbailey@foobar.com'),
    ('Edward', 'Walker', 'ed@walker.com'),
    ('Anne', 'Kretchmar', 'annek@noanswer.org');

INSERT INTO products (name, description, weight) VALUES
    ('scooter', 'Small 2-wheel scooter', 3.140),
    ('car battery', '12V car battery', 8.100),
    ('hammer', '12oz carpenter''s hammer', 0.750),
    ('rocks', 'box of assorted rocks', 5.300);

INSERT INTO orders (order_date, purchaser, quantity, product_id) VALUES
    ('2016-01-16', 1001, 1, 102),
    ('2016-01-17', 1002, 2, 101),
    ('2016-02-19', 1002, 2, 104),
    ('2016-02-21', 1003, 1, 103);
