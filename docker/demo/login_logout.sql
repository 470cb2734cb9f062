\set userid random(1, 200000)
SELECT digoal_01.f_user_login(:userid);
SELECT digoal_01.f_user_logout(:userid);
