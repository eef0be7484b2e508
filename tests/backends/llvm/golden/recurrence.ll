; _k1: out[0] += p0  [loops -]
; ModuleID = "tlc_k_98080af5c70526f2"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_98080af5c70526f2"(double* noalias %".1", double* noalias %".2", double* %".3", i64* %".4") nounwind
{
entry:
  br label %"body"
body:
  %".6" = add nsw i64 0, 0
  %".7" = getelementptr inbounds double, double* %".1", i64 %".6"
  %".8" = load double, double* %".7"
  %".9" = getelementptr inbounds double, double* %".3", i64 0
  %".10" = load double, double* %".9"
  %".11" = fadd double %".8", %".10"
  store double %".11", double* %".7"
  ret void
}

; _k2: out[t+1] += ((p0 * S[t]) + In[t])  [loops t]
; ModuleID = "tlc_k_2eecaeb0e49cdc73"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_2eecaeb0e49cdc73"(double* %".1", double* noalias %".2", double* %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
{
entry:
  br label %"body"
body:
  %".8" = getelementptr inbounds i64, i64* %".6", i64 0
  %"int0" = load i64, i64* %".8"
  %".9" = getelementptr inbounds i64, i64* %".6", i64 1
  %"int1" = load i64, i64* %".9"
  br label %"t.head"
t.head:
  %"t" = phi  i64 [%"int0", %"body"], [%".31", %"t.body"]
  %".11" = icmp slt i64 %"t", %"int1"
  br i1 %".11", label %"t.body", label %"t.done"
t.body:
  %".13" = add nsw i64 1, %"t"
  %".14" = add nsw i64 0, %".13"
  %".15" = getelementptr inbounds double, double* %".1", i64 %".14"
  %".16" = load double, double* %".15"
  %".17" = getelementptr inbounds double, double* %".5", i64 0
  %".18" = load double, double* %".17"
  %".19" = add nsw i64 0, %"t"
  %".20" = add nsw i64 0, %".19"
  %".21" = getelementptr inbounds double, double* %".3", i64 %".20"
  %".22" = load double, double* %".21"
  %".23" = fmul double %".18", %".22"
  %".24" = add nsw i64 0, %"t"
  %".25" = add nsw i64 0, %".24"
  %".26" = getelementptr inbounds double, double* %".4", i64 %".25"
  %".27" = load double, double* %".26"
  %".28" = fadd double %".23", %".27"
  %".29" = fadd double %".16", %".28"
  store double %".29", double* %".15"
  %".31" = add nsw i64 %"t", 1
  br label %"t.head"
t.done:
  ret void
}
