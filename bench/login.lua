-- wrk: log in with a demo account, again and again (CSRF is off in the bench).
wrk.method = "POST"
wrk.body = "username=demo1&password=demo+password"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
