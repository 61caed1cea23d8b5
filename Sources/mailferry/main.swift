print("mailferry")
