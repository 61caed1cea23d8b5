require ["vacation", "copy"];
# redirect "a@x.example";
/* "b@x.example" */ if header :is "to" "a@x.example" { redirect :copy "a@x.example"; }
vacation :addresses ["a@x.example", "c\"d@x.example"] text:
Away.
..
.
;
