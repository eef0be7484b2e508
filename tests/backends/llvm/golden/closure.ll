; _closure: transitive closure: bitset rows ORed over strong components, sinks first  [threads split words]
; ModuleID = "tlc_closure_words_v1"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define internal void @"tlc_closure_words_v1_or_row"(i64* noalias %".1", i64* noalias %".2", i64 %".3", i64 %".4") alwaysinline nounwind
{
entry:
  br label %"w_test"
w_test:
  %"w" = phi  i64 [%".3", %"entry"], [%".15", %"w_body"]
  %".7" = icmp slt i64 %"w", %".4"
  br i1 %".7", label %"w_body", label %"w_done"
w_body:
  %".9" = getelementptr i64, i64* %".1", i64 %"w"
  %".10" = load i64, i64* %".9"
  %".11" = getelementptr i64, i64* %".2", i64 %"w"
  %".12" = load i64, i64* %".11"
  %".13" = or i64 %".10", %".12"
  store i64 %".13", i64* %".9"
  %".15" = add nsw i64 %"w", 1
  br label %"w_test"
w_done:
  ret void
}

define void @"tlc_closure_words_v1"(i64* %".1", i64* %".2", i64* %".3", i64* %".4", i64 %".5", i64 %".6", i64 %".7", i64 %".8") nounwind
{
entry:
  br label %"k_test"
k_test:
  %"k" = phi  i64 [0, %"entry"], [%".32", %"e_done"]
  %".11" = icmp slt i64 %"k", %".5"
  br i1 %".11", label %"k_body", label %"k_done"
k_body:
  %".13" = getelementptr i64, i64* %".2", i64 %"k"
  %".14" = load i64, i64* %".13"
  %".15" = mul nsw i64 %".14", %".6"
  %".16" = getelementptr i64, i64* %".1", i64 %".15"
  %".17" = getelementptr i64, i64* %".3", i64 %".14"
  %".18" = load i64, i64* %".17"
  %".19" = add nsw i64 %".14", 1
  %".20" = getelementptr i64, i64* %".3", i64 %".19"
  %".21" = load i64, i64* %".20"
  br label %"e_test"
k_done:
  ret void
e_test:
  %"e" = phi  i64 [%".18", %"k_body"], [%".30", %"e_body"]
  %".23" = icmp slt i64 %"e", %".21"
  br i1 %".23", label %"e_body", label %"e_done"
e_body:
  %".25" = getelementptr i64, i64* %".4", i64 %"e"
  %".26" = load i64, i64* %".25"
  %".27" = mul nsw i64 %".26", %".6"
  %".28" = getelementptr i64, i64* %".1", i64 %".27"
  call void @"tlc_closure_words_v1_or_row"(i64* %".16", i64* %".28", i64 %".7", i64 %".8")
  %".30" = add nsw i64 %"e", 1
  br label %"e_test"
e_done:
  %".32" = add nsw i64 %"k", 1
  br label %"k_test"
}
