;;; bench/programs/binarytrees.scm -- binary trees for Guile 3.0 (bench/run.sh, part programs)
;;; The classic benchmark: a stretch tree of depth D+1, a long-lived tree of
;;; depth D kept to the end, and 2^(D-d+4) short-lived trees of each depth d
;;; = 4, 6, ..., D.  Nodes are pairs (leaves: (#f . #f)).
;;; Size: D = 18, or 10 when PROG_SIZE=smoke.  Prints one "check:" line.

(define max-depth (if (equal? (getenv "PROG_SIZE") "smoke") 10 18))
(define min-depth 4)

(define (make-tree d)
  (if (= d 0)
      (cons #f #f)
      (let ((d (- d 1)))
        (cons (make-tree d) (make-tree d)))))

(define (check-tree t)
  (if (car t)
      (+ 1 (check-tree (car t)) (check-tree (cdr t)))
      1))

(define (run)
  (let* ((stretch (check-tree (make-tree (+ max-depth 1))))
         (long-lived (make-tree max-depth)))
    (let loop ((d min-depth) (total stretch))
      (if (> d max-depth)
          (+ total (check-tree long-lived))
          (let ((iterations (ash 1 (+ (- max-depth d) min-depth))))
            (let inner ((i 0) (sum 0))
              (if (< i iterations)
                  (inner (+ i 1) (+ sum (check-tree (make-tree d))))
                  (loop (+ d 2) (+ total sum)))))))))

(format #t "check: binarytrees depth ~a total ~a\n" max-depth (run))
