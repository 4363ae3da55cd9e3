-- The reference edition of the seed (13th, 18–24 November 2024). Later editions are configured as data.
INSERT INTO editions (year, number, theme, demo, week_start, week_end, eligible_from, eligible_to, opens_at, deadline)
VALUES (2024, 13, 'Avec l''industrie, fabrique ton avenir !', FALSE, '2024-11-18', '2024-11-24', '2024-11-03', '2024-12-09',
        '2024-09-19T22:00:00+00:00', '2024-11-12T22:59:59+00:00');
